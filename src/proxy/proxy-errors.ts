import {
  BadGatewayException,
  BadRequestException,
  GatewayTimeoutException,
  HttpException,
  HttpStatus,
  ServiceUnavailableException,
} from '@nestjs/common';
import { formatDuration } from '../config/duration.js';

/** No upstream can take traffic: every breaker is open (or its probe is out). */
export class NoUpstreamAvailableError extends ServiceUnavailableException {
  constructor() {
    super('No backend available');
    this.name = 'NoUpstreamAvailableError';
  }
}

/** No backend could be reached, or one dropped the connection before answering. */
export class UpstreamUnreachableError extends BadGatewayException {
  constructor(cause: unknown) {
    super('Error forwarding request', { cause });
    this.name = 'UpstreamUnreachableError';
  }
}

/** The backend sent nothing for --write-timeout: no response headers, or no next body byte. */
export class UpstreamTimeoutError extends GatewayTimeoutException {
  constructor(timeoutMs: number) {
    super(`Backend did not respond within ${formatDuration(timeoutMs)}`);
    this.name = 'UpstreamTimeoutError';
  }
}

/** The request line names an absolute URL or `*`: this is a reverse proxy, not a forward proxy. */
export class UnsupportedRequestTargetError extends BadRequestException {
  constructor() {
    super('The request target must be a path starting with /');
    this.name = 'UnsupportedRequestTargetError';
  }
}

/** The client sent more than its share; carries what the 429's headers report. */
export class RateLimitedError extends HttpException {
  constructor(
    readonly limit: number,
    /** Whole seconds until a request would be accepted again. */
    readonly retryAfterSeconds: number,
  ) {
    super(
      HttpException.createBody(`Rate limit of ${limit} requests per second exceeded`, 'Too Many Requests', HttpStatus.TOO_MANY_REQUESTS),
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.name = 'RateLimitedError';
  }
}

/** Socket errors that happen before a connection exists: nothing reached the backend. */
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a request failed before its connection to the backend was established. */
export function isConnectFailure(error: unknown): boolean {
  return CONNECT_ERRORS.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * The error -> status table for everything the gateway answers itself while proxying.
 *  - our own errors carry their status: 503 no backend available, 504 backend timeout, 400 bad target;
 *  - any other error reached us from the socket (ECONNREFUSED, ECONNRESET, ENOTFOUND, EPIPE, …):
 *    nothing usable came back from the backend, so 502, whatever the code, because the client can
 *    do nothing else about it.
 * (A client that went away gets nothing: see ProxyMiddleware, which logs it as 499.)
 */
export function toHttpException(error: unknown): HttpException {
  if (error instanceof HttpException) return error;
  return new UpstreamUnreachableError(error);
}
