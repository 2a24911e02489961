/** Failed authentications allowed per client address per window before its attempts are refused outright. */
export const MAX_FAILURES = 10;
export const FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered at most; past it, expired windows are dropped first, then all (memory stays bounded under a spray of addresses). */
const MAX_CLIENTS = 100_000;

/**
 * Counts failed API-key checks per client address, so keys cannot be guessed fast: past
 * MAX_FAILURES in a window, that address gets 429 for the rest of it, whatever key it sends.
 */
export class FailedAuthentications {
  private readonly windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Seconds until `client` may try again; 0 when it may now. */
  retryAfterSeconds(client: string): number {
    const window = this.windows.get(client);
    if (window === undefined || window.failures < MAX_FAILURES) return 0;
    const left = window.startedAt + FAILURE_WINDOW_MS - this.now();
    if (left > 0) return Math.ceil(left / 1_000);
    this.windows.delete(client);
    return 0;
  }

  /** One more failure from `client`; true when it has just used up its window. */
  record(client: string): boolean {
    const now = this.now();
    let window = this.windows.get(client);
    if (window === undefined || now - window.startedAt >= FAILURE_WINDOW_MS) {
      if (this.windows.size >= MAX_CLIENTS) this.forgetOld(now);
      window = { startedAt: now, failures: 0 };
      this.windows.set(client, window);
    }
    window.failures++;
    return window.failures === MAX_FAILURES;
  }

  private forgetOld(now: number): void {
    for (const [client, window] of this.windows) if (now - window.startedAt >= FAILURE_WINDOW_MS) this.windows.delete(client);
    if (this.windows.size >= MAX_CLIENTS) this.windows.clear();
  }
}
