import {
  BadGatewayException,
  BadRequestException,
  ForbiddenException,
  GatewayTimeoutException,
  HttpException,
  HttpStatus,
  PayloadTooLargeException,
  RequestTimeoutException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  NotFoundException,
} from '@nestjs/common';
import { formatDuration } from '../config/duration.js';

/*
 * Every status the gateway answers itself, and the one function that decides it (toHttpException).
 * Each error is a named class that carries its status and keeps its cause; the body is Nest's
 * HttpException shape: {"statusCode":502,"error":"Bad Gateway","message":"…"}.
 */

/** Node's HTTP parser refused what the client sent (Node reports it on the socket, before any request object). */
export class ClientProtocolError extends Error {
  constructor(readonly cause: NodeJS.ErrnoException) {
    super(cause.message, { cause });
    this.name = 'ClientProtocolError';
  }
}

/** A fragment (`#…`) in the request target, which RFC 9112 does not allow there: it is the client's own, never sent. */
export class FragmentInTargetError extends BadRequestException {
  constructor() {
    super('The request target must not carry a fragment (#)');
    this.name = 'FragmentInTargetError';
  }
}

/** The request line names an absolute URL or `*`: this is a reverse proxy, not a forward proxy. */
export class UnsupportedRequestTargetError extends BadRequestException {
  constructor() {
    super('The request target must be a path starting with /');
    this.name = 'UnsupportedRequestTargetError';
  }
}

/**
 * A path whose dot segments climb above the root (`/../secret`, `/%2e%2e/secret`): joined to a
 * backend's path prefix it would leave it, so it is refused, as NGINX refuses it.
 */
export class PathAboveRootError extends BadRequestException {
  constructor() {
    super('The request path climbs above the root');
    this.name = 'PathAboveRootError';
  }
}

/** RFC 9112 §3.2: no Host on HTTP/1.1, more than one Host line, or one that is not `host[:port]`. */
export class InvalidHostError extends BadRequestException {
  constructor() {
    super('The Host header must be given once, as host or host:port');
    this.name = 'InvalidHostError';
  }
}

/**
 * RFC 9112 §6.1: an HTTP/1.0 request with Transfer-Encoding has faulty framing (a 1.0 peer may not
 * know chunked, so where its body ends is in doubt); NGINX answers 400.
 */
export class FaultyFramingError extends BadRequestException {
  constructor() {
    super('Transfer-Encoding is not allowed in an HTTP/1.0 request');
    this.name = 'FaultyFramingError';
  }
}

/** A request line naming an HTTP version other than 1.x (`HTTP/2.0` over an HTTP/1 connection): NGINX answers 505. */
export class UnsupportedHttpVersionError extends HttpException {
  constructor() {
    super(HttpException.createBody('Only HTTP/1.0 and HTTP/1.1 are served here', 'HTTP Version Not Supported', 505), 505);
    this.name = 'UnsupportedHttpVersionError';
  }
}

/** A method the resource does not take (the gateway's own endpoints answer GET and HEAD only). */
export class MethodNotAllowedError extends HttpException {
  constructor(
    method: string,
    /** What the `Allow` header lists. */
    readonly allowed: readonly string[],
  ) {
    super(HttpException.createBody(`${method} is not allowed here; allowed: ${allowed.join(', ')}`, 'Method Not Allowed', 405), 405);
    this.name = 'MethodNotAllowedError';
  }
}

/** With --tls-client-auth=optional: the client presented a certificate that --tls-client-ca did not sign. */
export class UnverifiedClientCertificateError extends UnauthorizedException {
  constructor() {
    super('The client certificate is not signed by a trusted CA');
    this.name = 'UnverifiedClientCertificateError';
  }
}

/** With --api-keys: no key, or one of no consumer; the same answer for both, so it tells a guesser nothing. */
export class ApiKeyRequiredError extends UnauthorizedException {
  constructor() {
    super('A valid API key is required: Authorization: Bearer <key>, or X-API-Key');
    this.name = 'ApiKeyRequiredError';
  }
}

/** The key is valid, but none of its consumer's roles allows this method on this path. */
export class AccessDeniedError extends ForbiddenException {
  constructor(method: string) {
    super(`This API key may not ${method} this path`);
    this.name = 'AccessDeniedError';
  }
}

/** Too many failed API-key checks from this address: its attempts are refused for a while, so keys cannot be guessed fast. */
export class AuthenticationThrottledError extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      HttpException.createBody('Too many failed authentications from this address', 'Too Many Requests', HttpStatus.TOO_MANY_REQUESTS),
      HttpStatus.TOO_MANY_REQUESTS,
    );
    this.name = 'AuthenticationThrottledError';
  }
}

/** A request body larger than --max-body-size: announced by its Content-Length, or found so as a chunked body streamed. */
export class BodyTooLargeError extends PayloadTooLargeException {
  constructor(limitBytes: number) {
    super(`The request body is larger than the ${limitBytes} bytes allowed`);
    this.name = 'BodyTooLargeError';
  }
}

/** A request body of a media type not in --allowed-content-types (or of none). */
export class ContentTypeNotAllowedError extends UnsupportedMediaTypeException {
  constructor(allowed: readonly string[]) {
    super(`The request body must be one of: ${allowed.join(', ')}`);
    this.name = 'ContentTypeNotAllowedError';
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

/** No backend could be reached, or one dropped the connection before answering. */
export class UpstreamUnreachableError extends BadGatewayException {
  constructor(cause: unknown) {
    super('Error forwarding request', { cause });
    this.name = 'UpstreamUnreachableError';
  }
}

/** Nothing can take the request: every backend is at its concurrency cap, or there is none. */
export class NoUpstreamAvailableError extends ServiceUnavailableException {
  constructor() {
    super('No backend available');
    this.name = 'NoUpstreamAvailableError';
  }
}

/** No route of the configuration matches the request (host, path prefix, methods, headers). */
export class NoRouteError extends NotFoundException {
  constructor() {
    super('No route matches this request');
    this.name = 'NoRouteError';
  }
}

/** The backend sent nothing for the try timeout: no response headers, or no next body byte. */
export class UpstreamTimeoutError extends GatewayTimeoutException {
  constructor(timeoutMs: number) {
    super(`Backend did not respond within ${formatDuration(timeoutMs)}`);
    this.name = 'UpstreamTimeoutError';
  }
}

/** nginx's 499: the client went away before any answer. Never sent; the access log and metrics say it. */
export class ClientClosedRequestError extends HttpException {
  constructor() {
    super(HttpException.createBody('The client closed the connection before an answer', 'Client Closed Request', 499), 499);
    this.name = 'ClientClosedRequestError';
  }
}

/** Socket errors that happen before a connection exists: nothing reached the backend. */
const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a request failed before its connection to the backend was established. */
export function isConnectFailure(error: unknown): boolean {
  return CONNECT_ERRORS.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * The error -> status table, for everything the gateway answers (or logs) itself:
 *
 * | error                                  | status |
 * |----------------------------------------|--------|
 * | ClientProtocolError, parser's deadline | 408    |
 * | ClientProtocolError, header overflow   | 431    |
 * | ClientProtocolError, anything else     | 400    |
 * | UnsupportedRequestTargetError          | 400    |
 * | MethodNotAllowedError                  | 405    |
 * | RateLimitedError                       | 429    |
 * | NoUpstreamAvailableError               | 503    |
 * | UpstreamTimeoutError                   | 504    |
 * | ClientClosedRequestError               | 499    |
 * | any other error (from a backend socket)| 502    |
 *
 * (When a backend did answer, its response goes to the client instead: see ProxyMiddleware.)
 */
export function toHttpException(error: unknown): HttpException {
  if (error instanceof HttpException) return error;
  if (error instanceof ClientProtocolError) {
    switch (error.cause.code) {
      // Node's requestTimeout/headersTimeout (--read-timeout) ran out while the request came in.
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        return new RequestTimeoutException('The request was not received within --read-timeout', { cause: error.cause });
      case 'HPE_HEADER_OVERFLOW':
        return new HttpException(HttpException.createBody('Request headers too large', 'Request Header Fields Too Large', 431), 431, {
          cause: error.cause,
        });
      // HTTP/3.0 and the like on an HTTP/1 connection, as NGINX answers them; the parser reports a
      // malformed line end after the version (`HTTP/1.1 \r\n`, a bare LF) with this code too: 400.
      case 'HPE_INVALID_VERSION':
        if ((error.cause as { reason?: string }).reason === 'Invalid HTTP version') return new UnsupportedHttpVersionError();
        return new BadRequestException('Malformed HTTP request', { cause: error.cause });
      default:
        return new BadRequestException('Malformed HTTP request', { cause: error.cause });
    }
  }
  // Whatever else reached us came from the backend's side (ECONNREFUSED, ECONNRESET, ENOTFOUND,
  // EPIPE, a parse error in its response, …): nothing usable came back, and the client can do
  // nothing about any of them, so one status, 502, whatever the code.
  return new UpstreamUnreachableError(error);
}
