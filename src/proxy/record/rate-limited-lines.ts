import type { IncomingMessage } from 'node:http';

/** One client's 429s since its last 429 line. */
interface ClientRefusals {
  /** When its last line was written (epoch ms). */
  loggedAt: number;
  /** Refusals since then that no line has counted yet. */
  unlogged: number;
  /** The latest of those, to write the owed line about. */
  last: IncomingMessage | undefined;
  lastMs: number;
}

/** A line owed for refusals that were not logged when they happened. */
export interface OwedLine {
  readonly client: string;
  readonly req: IncomingMessage;
  readonly ms: number;
  readonly refused: number;
}

/**
 * Decides which 429s get an access-log line: at most one per client per period, each counting the
 * refusals since the client's previous line. A flood of refused requests (10 s of wrk against a
 * low limit wrote ~96,000 lines before this) becomes one line a second per client.
 */
export class RateLimitedLines {
  private readonly clients = new Map<string, ClientRefusals>();

  constructor(private readonly periodMs: number) {}

  /** A request of `client` was refused: returns how many refusals its line should count, or 0 when it gets no line now. */
  take(client: string, req: IncomingMessage, ms: number, now: number): number {
    const known = this.clients.get(client);
    if (known === undefined) {
      this.clients.set(client, { loggedAt: now, unlogged: 0, last: undefined, lastMs: 0 });
      return 1;
    }
    if (now - known.loggedAt >= this.periodMs) {
      const refused = known.unlogged + 1;
      known.loggedAt = now;
      known.unlogged = 0;
      known.last = undefined;
      return refused;
    }
    known.unlogged++;
    known.last = req;
    known.lastMs = ms;
    return 0;
  }

  /**
   * The lines owed by `now`: one for each client whose unlogged refusals are a period old (pass
   * Infinity to settle every one, at a stop). Clients quiet for a period are forgotten.
   */
  owed(now: number): OwedLine[] {
    const lines: OwedLine[] = [];
    for (const [client, refusals] of this.clients) {
      if (now - refusals.loggedAt < this.periodMs) continue;
      if (refusals.unlogged > 0 && refusals.last) {
        lines.push({ client, req: refusals.last, ms: refusals.lastMs, refused: refusals.unlogged });
        refusals.loggedAt = now === Infinity ? 0 : now;
        refusals.unlogged = 0;
        refusals.last = undefined;
      } else {
        this.clients.delete(client);
      }
    }
    return lines;
  }
}
