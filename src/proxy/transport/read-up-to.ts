import { PassThrough, type Readable } from 'node:stream';

/** A stream read into memory, or, past the limit, everything as one stream again. */
export type ReadUpTo = { readonly complete: Buffer } | { readonly overflow: Readable };

/**
 * Reads `stream` into memory while it stays within `limit` bytes. A stream announced larger (its
 * Content-Length) is not read at all; one that grows past the limit is handed back as a single
 * stream of what was read followed by the rest, so nothing is lost either way. Rejects if the
 * stream fails first.
 */
export async function readUpTo(stream: Readable, limit: number, announcedLength?: string | number): Promise<ReadUpTo> {
  if (announcedLength !== undefined && Number(announcedLength) > limit) return { overflow: stream };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > limit) {
      const rejoined = new PassThrough();
      for (const read of chunks) rejoined.write(read);
      stream.pipe(rejoined);
      return { overflow: rejoined };
    }
  }
  return { complete: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) };
}
