import type { ServerResponse } from 'node:http';
import type { HttpException } from '@nestjs/common';

/**
 * Answers with Nest's HttpException JSON shape (`{"message":…,"error":…,"statusCode":…}`), written
 * straight to the socket because proxied traffic never passes through Express.
 */
export function sendHttpException(res: ServerResponse, exception: HttpException, headers?: Record<string, string | number>): void {
  if (res.headersSent) {
    // Part of a response is already on the wire: the only honest signal left is to cut it.
    res.destroy();
    return;
  }
  const body = JSON.stringify(exception.getResponse());
  res.writeHead(exception.getStatus(), {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
