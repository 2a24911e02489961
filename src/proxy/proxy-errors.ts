import {
  BadGatewayException,
  BadRequestException,
  HttpException,
  HttpStatus,
  ServiceUnavailableException,
} from '@nestjs/common';

/** No upstream can take traffic: the pool is empty or every one is out of rotation. */
export class NoUpstreamAvailableError extends ServiceUnavailableException {
  constructor() {
    super('No backend available');
    this.name = 'NoUpstreamAvailableError';
  }
}

/** The chosen backend could not be reached, or dropped the connection before answering. */
export class UpstreamUnreachableError extends BadGatewayException {
  constructor(cause: unknown) {
    super('Error forwarding request', { cause });
    this.name = 'UpstreamUnreachableError';
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

/**
 * The error -> status table for everything the gateway answers itself. Our own errors already
 * carry their status; anything else that escapes the proxy is a failure to reach the backend.
 */
export function toHttpException(error: unknown): HttpException {
  if (error instanceof HttpException) return error;
  // A raw socket error (ECONNREFUSED, ECONNRESET, ENOTFOUND, EHOSTUNREACH, …) means nothing was
  // received from the backend: 502, whatever the code, because the client can do nothing else.
  return new UpstreamUnreachableError(error);
}
