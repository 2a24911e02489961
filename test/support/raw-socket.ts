import net from 'node:net';

/**
 * Writes `bytes` as they are on a fresh connection to 127.0.0.1:`port` and returns everything the
 * server sent until it closed the connection or `idleMs` passed without a byte (the test stays bounded).
 * For requests no HTTP client would send: dot segments, duplicate headers, malformed lines.
 */
export function sendRaw(port: number, bytes: string, idleMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.setTimeout(idleMs, done);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', done);
    socket.on('error', (error) => (chunks.length > 0 ? done() : reject(error)));
    socket.write(bytes, 'latin1');
  });
}

/** The status code of the first response in raw bytes, or undefined when there is none. */
export function firstStatus(raw: string): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return match ? Number(match[1]) : undefined;
}
