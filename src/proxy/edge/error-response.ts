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

/** The same answer as a complete HTTP/1.1 response, for a socket that has no response object; it closes the connection. */
export function rawErrorResponse(exception: HttpException, headers: Record<string, string> = {}): string {
  const body = JSON.stringify(exception.getResponse());
  const status = exception.getStatus();
  const reason = (exception.getResponse() as { error?: string }).error ?? '';
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return (
    `HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
