import type { IncomingMessage } from 'node:http';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';

/** Admin requests are a URL and a weight, or a state: a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The request's JSON body (the app runs without Express's body parser, which would consume the
 * bodies the gateway forwards). @throws 400 for a body that is not JSON, 413 past 64 KiB
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeException(`An admin request body is at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new BadRequestException('Expected a JSON body');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestException(`The body is not JSON: ${(error as Error).message}`);
  }
}
