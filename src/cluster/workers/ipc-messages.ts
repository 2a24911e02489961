/**
 * The messages between the --workers primary and its workers, over node:cluster's IPC channel
 * (`process.send` / `worker.on('message')`, JSON-serialised). Every message carries `gw`, so that
 * anything else on the channel (a library's own messages) is told apart and ignored.
 *
 * The request path's calls (rate-limit hits) travel in flat arrays, batched per turn of the event
 * loop: one message for every hit of that turn, no object per hit.
 */

/** Fields per rate-limit hit in `CallsMessage.hits`: id, key, ttl, limit, blockDuration, throttlerName. */
export const HIT_FIELDS = 6;
/** Fields per answer in `AnswersMessage.hits`: id, totalHits, timeToExpire, timeToBlockExpire (0: accepted). */
export const HIT_ANSWER_FIELDS = 4;

/** The shared store's and the aggregation's operations, asked of the primary by a worker. */
export type PrimaryOperation =
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly ttlMs: number; readonly onlyIfAbsent: boolean }
  | { readonly op: 'read'; readonly key: string }
  | { readonly op: 'removeIf'; readonly key: string; readonly value: string }
  | { readonly op: 'publish'; readonly channel: string; readonly message: string }
  | { readonly op: 'metrics'; readonly format: MetricsFormat };

export type MetricsFormat = 'json' | 'prometheus';

/** Worker -> primary: the calls of one turn of the event loop. */
export interface CallsMessage {
  readonly gw: 'calls';
  /** Rate-limit hits, HIT_FIELDS each. */
  readonly hits?: (string | number)[];
  /** Other operations: [id, operation] pairs, flattened. */
  readonly ops?: (number | PrimaryOperation)[];
}

/** Primary -> worker: the answers to one CallsMessage (and any others of the same turn). */
export interface AnswersMessage {
  readonly gw: 'answers';
  /** HIT_ANSWER_FIELDS each. */
  readonly hits?: number[];
  /** [id, ok (1/0), value or error message] triples, flattened. */
  readonly ops?: unknown[];
}

/** Primary -> every worker: a message published on a shared-store channel. */
export interface BroadcastMessage {
  readonly gw: 'broadcast';
  readonly channel: string;
  readonly message: string;
}

/** Primary -> worker: send your own metrics (for the whole process's answer). */
export interface CollectMessage {
  readonly gw: 'collect';
  readonly id: number;
  readonly format: MetricsFormat;
}

/** Worker -> primary: a worker's own metrics, as MetricsService's snapshot or prom-client's `getMetricsAsJSON()`. */
export interface CollectedMessage {
  readonly gw: 'collected';
  readonly id: number;
  readonly metrics: unknown;
}

/** Worker -> primary: the worker listens (the URL of --listen, and of --admin-listen when set). */
export interface ListeningMessage {
  readonly gw: 'listening';
  readonly url: string;
  readonly adminUrl?: string;
}

/** Primary -> worker: drain and exit, as on a signal; `cut` is the second signal (cut what is left). */
export interface StopMessage {
  readonly gw: 'stop';
  readonly signal: NodeJS.Signals;
  readonly cut: boolean;
}

export type WorkerToPrimary = CallsMessage | CollectedMessage | ListeningMessage;
export type PrimaryToWorker = AnswersMessage | BroadcastMessage | CollectMessage | StopMessage;

/** Whether `message` is one of ours (and not, say, a library's). */
export function isGatewayMessage<T extends { gw: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { gw?: unknown }).gw === 'string';
}
