import { UpstreamTimeoutError } from './proxy-errors.js';

/** A backend answered with a status that says it is in trouble (a retried 502/503/504, or one of --breaker-statuses). */
export class BackendStatusFailure extends Error {
  constructor(readonly status: number) {
    super(`backend answered ${status}`);
    this.name = 'BackendStatusFailure';
  }
}

/**
 * What a failed try met, in a word, for the access log and /status: the socket error's code
 * (`ECONNREFUSED`, `ECONNRESET`), `timeout`, the backend's status (`503`), or the error's message.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  if (error instanceof BackendStatusFailure) return String(error.status);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause !== undefined && cause !== error) return describeFailure(cause);
  return error instanceof Error ? error.message : String(error);
}
