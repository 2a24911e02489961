import http from 'node:http';

/** What happened to one request of a load run. */
export interface LoadResult {
  readonly index: number;
  /** When it was sent, ms since the run started. */
  readonly sentAtMs: number;
  readonly status: number | undefined;
  readonly body: string;
  /** Socket-level failure, e.g. ECONNREFUSED, or 'truncated' when the body ended early. */
  readonly error: string | undefined;
}

export interface LoadOptions {
  readonly url: string;
  /** Requests in the whole run. */
  readonly total: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  readonly body?: (index: number) => string | undefined;
  /** Called after each answer, e.g. to inject a fault once enough requests have gone through. */
  readonly onAnswer?: (result: LoadResult, answered: number) => void;
  /** Fresh connection per request instead of a keep-alive pool. */
  readonly freshConnections?: boolean;
  /** Give up on a single request after this long (the run stays bounded). */
  readonly requestTimeoutMs?: number;
  /** Stop sending (before `total`) once this says so: a run bounded by time. */
  readonly until?: () => boolean;
}

/**
 * A steady stream of concurrent requests that counts every request sent and every answer. Each
 * worker sends its next request as soon as the previous one is answered.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult[]> {
  const agent = options.freshConnections ? false : new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const results: LoadResult[] = [];
  const started = performance.now();
  let next = 0;
  const one = (index: number) =>
    new Promise<LoadResult>((resolve) => {
      const sentAtMs = performance.now() - started;
      const body = options.body?.(index);
      const req = http.request(options.url, { method: options.method ?? 'GET', headers: options.headers, agent, timeout: options.requestTimeoutMs ?? 10_000 });
      const finish = (status: number | undefined, text: string, error: string | undefined) => resolve({ index, sentAtMs, status, body: text, error });
      req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
      req.on('error', (error: NodeJS.ErrnoException) => finish(undefined, '', error.code ?? error.message));
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => finish(res.statusCode, text, res.complete ? undefined : 'truncated'));
        res.on('error', () => finish(res.statusCode, text, 'truncated'));
      });
      req.end(body);
    });
  const worker = async () => {
    while (next < options.total && !options.until?.()) {
      const result = await one(next++);
      results.push(result);
      options.onAnswer?.(result, results.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (agent) agent.destroy();
  return results.sort((a, b) => a.index - b.index);
}

/** Counts by outcome: `200`, `504`, `ECONNREFUSED`, … */
export function tally(results: readonly LoadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.error ?? String(result.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
