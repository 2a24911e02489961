import type { IncomingHttpHeaders } from 'node:http';
import { isConnectFailure, UpstreamTimeoutError } from '../proxy-errors.js';

/**
 * How a try failed, as far as retrying goes:
 *  - `refused`: no connection was made, so nothing reached the backend;
 *  - `reset`: the connection broke before a response (including a dead pooled connection);
 *  - `timeout`: no response head within the try timeout;
 *  - `status`: the backend answered 502, 503 or 504.
 */
export type FailureKind = 'refused' | 'reset' | 'timeout' | 'status';

/** Whether the request can be sent again: it has no body, or its body was kept (it fitted in --retry-buffer). */
export type BodyReplay = 'none' | 'buffered' | 'streamed';

/** Backend answers that a retry elsewhere may better: the gateway-ish 5xx (bad gateway, unavailable, timeout). */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Methods whose repetition changes nothing (RFC 9110 §9.2.2), plus whatever carries an Idempotency-Key. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export function isIdempotentRequest(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  return IDEMPOTENT_METHODS.has(method ?? '') || headers['idempotency-key'] !== undefined;
}

export function failureKindOf(error: unknown): Exclude<FailureKind, 'status'> {
  if (isConnectFailure(error)) return 'refused';
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  return 'reset';
}

/**
 * The retry decision table. An idempotent request is retried after any failure kind; any other
 * request only when the connection was refused, because then the backend cannot have acted on it
 * (a reset after the request went out may mean it did). A body that was not kept cannot be sent
 * again, whatever the method.
 */
export function retryAllowed(idempotent: boolean, failure: FailureKind, body: BodyReplay): boolean {
  if (body === 'streamed') return false;
  return idempotent || failure === 'refused';
}
