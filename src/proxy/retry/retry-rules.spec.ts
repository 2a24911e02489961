import { describe, expect, it } from 'vitest';
import { UpstreamTimeoutError } from '../proxy-errors.js';
import { type BodyReplay, type FailureKind, failureKindOf, isIdempotentRequest, retryAllowed } from './retry-rules.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe(isIdempotentRequest.name, () => {
  it.each([
    ['GET', {}, true],
    ['HEAD', {}, true],
    ['OPTIONS', {}, true],
    ['PUT', {}, true],
    ['DELETE', {}, true],
    ['POST', {}, false],
    ['PATCH', {}, false],
    ['CONNECT', {}, false],
    ['POST', { 'idempotency-key': 'k-1' }, true],
    ['PATCH', { 'idempotency-key': 'k-2' }, true],
  ])('says %s with headers %j is idempotent: %s', (method, headers, expected) => {
    expect(isIdempotentRequest(method, headers)).toBe(expected);
  });
});

describe(failureKindOf.name, () => {
  it.each([
    [errno('ECONNREFUSED'), 'refused'],
    [errno('ENOTFOUND'), 'refused'],
    [errno('EHOSTUNREACH'), 'refused'],
    [errno('ECONNRESET'), 'reset'],
    [errno('EPIPE'), 'reset'],
    [errno('UND_ERR_SOCKET'), 'reset'],
    [new UpstreamTimeoutError(1_000), 'timeout'],
  ])('classifies %s as %s', (error, kind) => {
    expect(failureKindOf(error)).toBe(kind);
  });
});

describe(retryAllowed.name, () => {
  const kinds: FailureKind[] = ['refused', 'reset', 'timeout', 'status'];
  const bodies: BodyReplay[] = ['none', 'buffered', 'streamed'];

  // The whole table: method class × failure kind × body.
  const table = kinds.flatMap((failure) =>
    bodies.flatMap((body) => [
      [true, failure, body, body !== 'streamed'] as const,
      [false, failure, body, body !== 'streamed' && failure === 'refused'] as const,
    ]),
  );

  it.each(table)('idempotent=%s, failure=%s, body=%s -> retry: %s', (idempotent, failure, body, expected) => {
    expect(retryAllowed(idempotent, failure, body)).toBe(expected);
  });

  it('never resends a POST whose connection was reset: the backend may have acted on it', () => {
    expect(retryAllowed(false, 'reset', 'buffered')).toBe(false);
    expect(retryAllowed(false, 'timeout', 'none')).toBe(false);
    expect(retryAllowed(false, 'status', 'buffered')).toBe(false);
  });

  it('never resends a body that was too large to keep', () => {
    expect(retryAllowed(true, 'refused', 'streamed')).toBe(false);
  });
});
