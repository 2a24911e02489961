import { HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  isConnectFailure,
  NoUpstreamAvailableError,
  RateLimitedError,
  toHttpException,
  UnsupportedRequestTargetError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './proxy-errors.js';

/** An error as Node's sockets raise it. */
function socketError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:8080`), { code });
}

const refused = socketError('ECONNREFUSED');
const reset = socketError('ECONNRESET');
const notFound = socketError('ENOTFOUND');
const brokenPipe = socketError('EPIPE');

describe(toHttpException.name, () => {
  it.each<{ name: string; error: unknown; status: number; reason: string; message: unknown; cause: unknown }>([
    {
      name: 'NoUpstreamAvailableError',
      error: new NoUpstreamAvailableError(),
      status: 503,
      reason: 'Service Unavailable',
      message: 'No backend available',
      cause: undefined,
    },
    {
      name: 'UpstreamUnreachableError',
      error: new UpstreamUnreachableError(refused),
      status: 502,
      reason: 'Bad Gateway',
      message: 'Error forwarding request',
      cause: refused,
    },
    {
      name: 'UpstreamTimeoutError(10_000)',
      error: new UpstreamTimeoutError(10_000),
      status: 504,
      reason: 'Gateway Timeout',
      message: expect.stringContaining('10s'),
      cause: undefined,
    },
    {
      name: 'UnsupportedRequestTargetError',
      error: new UnsupportedRequestTargetError(),
      status: 400,
      reason: 'Bad Request',
      message: 'The request target must be a path starting with /',
      cause: undefined,
    },
    {
      name: 'RateLimitedError(5, 1)',
      error: new RateLimitedError(5, 1),
      status: 429,
      reason: 'Too Many Requests',
      message: 'Rate limit of 5 requests per second exceeded',
      cause: undefined,
    },
    { name: 'ECONNREFUSED', error: refused, status: 502, reason: 'Bad Gateway', message: 'Error forwarding request', cause: refused },
    { name: 'ECONNRESET', error: reset, status: 502, reason: 'Bad Gateway', message: 'Error forwarding request', cause: reset },
    { name: 'ENOTFOUND', error: notFound, status: 502, reason: 'Bad Gateway', message: 'Error forwarding request', cause: notFound },
    { name: 'EPIPE', error: brokenPipe, status: 502, reason: 'Bad Gateway', message: 'Error forwarding request', cause: brokenPipe },
  ])('answers $name with $status $reason', ({ error, status, reason, message, cause }) => {
    const exception = toHttpException(error);
    expect(exception.getStatus()).toBe(status);
    expect(exception.getResponse()).toEqual({ statusCode: status, error: reason, message });
    expect(exception.cause).toBe(cause);
  });

  it.each([
    { name: 'NoUpstreamAvailableError', error: new NoUpstreamAvailableError() },
    { name: 'UpstreamTimeoutError', error: new UpstreamTimeoutError(10_000) },
    { name: 'RateLimitedError', error: new RateLimitedError(5, 1) },
  ])('passes a $name through as it is', ({ error }) => {
    expect(toHttpException(error)).toBe(error);
  });

  it('wraps a raw socket error in an UpstreamUnreachableError', () => {
    const exception = toHttpException(reset);
    expect(exception).toBeInstanceOf(UpstreamUnreachableError);
    expect(exception).toBeInstanceOf(HttpException);
  });

  it('answers a thrown non-Error with 502 too', () => {
    const exception = toHttpException('socket closed');
    expect(exception.getStatus()).toBe(502);
    expect(exception.cause).toBe('socket closed');
  });
});

describe(UpstreamTimeoutError.name, () => {
  it.each([
    { timeoutMs: 500, shown: '500ms' },
    { timeoutMs: 10_000, shown: '10s' },
    { timeoutMs: 90_000, shown: '1m30s' },
  ])('names a timeout of $timeoutMs ms as $shown', ({ timeoutMs, shown }) => {
    expect(new UpstreamTimeoutError(timeoutMs).message).toBe(`Backend did not respond within ${shown}`);
  });
});

describe(RateLimitedError.name, () => {
  it('carries the limit and the whole seconds until a retry', () => {
    const error = new RateLimitedError(5, 1);
    expect(error.limit).toBe(5);
    expect(error.retryAfterSeconds).toBe(1);
  });
});

describe(isConnectFailure.name, () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])(
    'is true for %s: nothing reached the backend',
    (code) => {
      expect(isConnectFailure(socketError(code))).toBe(true);
    },
  );

  it.each<{ name: string; error: unknown }>([
    { name: 'ECONNRESET', error: socketError('ECONNRESET') },
    { name: 'EPIPE', error: socketError('EPIPE') },
    { name: 'an UpstreamTimeoutError', error: new UpstreamTimeoutError(10_000) },
    { name: 'an Error without a code', error: new Error('boom') },
    { name: 'undefined', error: undefined },
  ])('is false for $name', ({ error }) => {
    expect(isConnectFailure(error)).toBe(false);
  });
});
