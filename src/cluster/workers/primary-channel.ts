import cluster from 'node:cluster';
import type { GatewayConfig } from '../../config/gateway-config.js';
import {
  type AnswersMessage,
  HIT_ANSWER_FIELDS,
  HIT_FIELDS,
  isGatewayMessage,
  type MetricsFormat,
  type PrimaryOperation,
  type PrimaryToWorker,
  type StopMessage,
  type WorkerToPrimary,
} from './ipc-messages.js';

/**
 * Whether this process is a worker forked by the gateway's own --workers primary. A worker of some
 * other cluster primary (pm2's cluster mode) has `--workers` 1 and is on its own: nobody would answer.
 */
export function isWorkerOfPrimary(config: GatewayConfig): boolean {
  return cluster.isWorker && config.workers > 1;
}

/**
 * Whether this process shares its cluster-wide state (breakers, leases) through the primary: a
 * worker of --workers without --redis-url. With Redis every worker is simply one more instance.
 * The SharedStore provider factory picks PrimarySharedStore when this is true.
 */
export function usesPrimarySharedStore(config: GatewayConfig): boolean {
  return isWorkerOfPrimary(config) && config.redisUrl === undefined;
}

/** A rate-limit hit's answer as the throttler's storage returns it. */
export interface HitRecord {
  readonly totalHits: number;
  readonly timeToExpire: number;
  readonly isBlocked: boolean;
  readonly timeToBlockExpire: number;
}

/**
 * An accepted hit. The primary answers an accepted hit with no counts (the gateway reads only
 * `isBlocked` of it), so every accepted hit shares this record instead of allocating one.
 */
const ACCEPTED: HitRecord = Object.freeze({ totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 });

/** The primary did not answer in time (or the channel is closed): the caller decides alone. */
export class PrimaryUnavailableError extends Error {
  constructor(what: string) {
    super(`the workers' primary process did not answer ${what}`);
    this.name = 'PrimaryUnavailableError';
  }
}

/** A call waiting for its answer. */
interface Pending<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A worker's end of the IPC channel to the --workers primary: calls with correlation ids, each with
 * a deadline, batched per turn of the event loop (setImmediate), so a busy worker sends one message
 * for all the requests it read in that turn; and the primary's broadcasts, metrics requests and
 * stop requests, handed to whoever registered for them.
 *
 * A call the primary does not answer within its deadline rejects with PrimaryUnavailableError: no
 * request ever waits longer than that for the primary.
 */
export class PrimaryChannel {
  private nextId = 1;
  private hits: (string | number)[] = [];
  private ops: (number | PrimaryOperation)[] = [];
  private readonly pendingHits = new Map<number, Pending<HitRecord>>();
  private readonly pendingOps = new Map<number, Pending<unknown>>();
  private flushScheduled = false;
  private readonly subscribers = new Map<string, ((message: string) => void)[]>();
  private collector: ((format: MetricsFormat) => Promise<unknown>) | undefined;
  private stopListener: ((message: StopMessage) => void) | undefined;
  /** One error for every timed-out hit: a timeout under load must not allocate per request. */
  private readonly hitTimeout: PrimaryUnavailableError;

  /**
   * @param send writes one message to the primary (process.send)
   * @param hitDeadlineMs how long a rate-limit hit may wait for the primary (--redis-timeout)
   */
  constructor(
    private readonly send: (message: WorkerToPrimary) => void,
    readonly hitDeadlineMs: number,
  ) {
    this.hitTimeout = new PrimaryUnavailableError(`a rate-limit call within ${hitDeadlineMs}ms`);
  }

  /** Counts one rate-limit hit in the primary's sliding window. */
  hit(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<HitRecord> {
    const id = this.nextId++;
    const answer = new Promise<HitRecord>((resolve, reject) => this.pendingHits.set(id, { resolve, reject }));
    this.hits.push(id, key, ttl, limit, blockDuration, throttlerName);
    this.scheduleFlush();
    return answer;
  }

  /** Asks the primary for one operation of the shared store or the metrics; rejects after `deadlineMs`. */
  call<T>(operation: PrimaryOperation, deadlineMs: number): Promise<T> {
    const id = this.nextId++;
    let reject: (error: unknown) => void = () => undefined;
    const answer = new Promise<unknown>((resolve, rejectAnswer) => {
      reject = rejectAnswer;
      this.pendingOps.set(id, { resolve, reject });
    });
    this.ops.push(id, operation);
    this.scheduleFlush();
    const timer = setTimeout(() => {
      if (this.pendingOps.delete(id)) reject(new PrimaryUnavailableError(`${operation.op} within ${deadlineMs}ms`));
    }, deadlineMs);
    timer.unref();
    return answer.finally(() => clearTimeout(timer)) as Promise<T>;
  }

  /** Hears every message the primary broadcasts on `channel` (published by any worker, this one included). */
  subscribe(channel: string, listener: (message: string) => void): void {
    const listeners = this.subscribers.get(channel);
    if (listeners) listeners.push(listener);
    else this.subscribers.set(channel, [listener]);
  }

  /** What this worker answers when the primary collects every worker's metrics. */
  onCollect(collector: (format: MetricsFormat) => Promise<unknown>): void {
    this.collector = collector;
  }

  /** Hears the primary's request to stop (it got SIGTERM or SIGINT). */
  onStop(listener: (message: StopMessage) => void): void {
    this.stopListener = listener;
  }

  /** Tells the primary this worker listens. */
  announceListening(url: string, adminUrl: string | undefined): void {
    this.post({ gw: 'listening', url, adminUrl });
  }

  /** Everything the primary sends. */
  receive(message: unknown): void {
    if (!isGatewayMessage<PrimaryToWorker>(message)) return;
    switch (message.gw) {
      case 'answers':
        this.settle(message);
        return;
      case 'broadcast':
        for (const listener of this.subscribers.get(message.channel) ?? []) {
          try {
            listener(message.message);
          } catch {
            // One listener's bug must not keep the message from the others.
          }
        }
        return;
      case 'collect': {
        const { id, format } = message;
        const collected = this.collector?.(format) ?? Promise.resolve(undefined);
        void collected.then(
          (metrics) => this.post({ gw: 'collected', id, metrics }),
          () => this.post({ gw: 'collected', id, metrics: undefined }),
        );
        return;
      }
      case 'stop':
        this.stopListener?.(message);
        return;
      default:
        message satisfies never;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /** Sends the turn's calls in one message; the turn's hits share one deadline timer. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const { hits, ops } = this;
    if (hits.length > 0) {
      this.hits = [];
      const firstId = hits[0] as number;
      const lastId = hits[hits.length - HIT_FIELDS] as number;
      const timer = setTimeout(() => this.expireHits(firstId, lastId), this.hitDeadlineMs);
      timer.unref();
    }
    if (ops.length > 0) this.ops = [];
    this.post({ gw: 'calls', hits: hits.length > 0 ? hits : undefined, ops: ops.length > 0 ? ops : undefined });
  };

  /** Hits of a batch still unanswered at its deadline are refused to the caller, which decides alone. */
  private expireHits(firstId: number, lastId: number): void {
    for (let id = firstId; id <= lastId; id++) {
      const pending = this.pendingHits.get(id);
      if (pending === undefined) continue;
      this.pendingHits.delete(id);
      pending.reject(this.hitTimeout);
    }
  }

  private settle({ hits, ops }: AnswersMessage): void {
    if (hits) {
      for (let i = 0; i < hits.length; i += HIT_ANSWER_FIELDS) {
        const pending = this.pendingHits.get(hits[i]);
        if (pending === undefined) continue; // answered after its deadline: already decided locally
        this.pendingHits.delete(hits[i]);
        const timeToBlockExpire = hits[i + 3];
        pending.resolve(timeToBlockExpire === 0 ? ACCEPTED : { totalHits: hits[i + 1], timeToExpire: hits[i + 2], isBlocked: true, timeToBlockExpire });
      }
    }
    if (ops) {
      for (let i = 0; i < ops.length; i += 3) {
        const id = ops[i] as number;
        const pending = this.pendingOps.get(id);
        if (pending === undefined) continue;
        this.pendingOps.delete(id);
        if (ops[i + 1] === 1) pending.resolve(ops[i + 2]);
        else pending.reject(new Error(String(ops[i + 2])));
      }
    }
  }

  private post(message: WorkerToPrimary): void {
    try {
      this.send(message);
    } catch {
      // The channel is closed (the primary is gone): the calls time out and are decided locally.
    }
  }
}

let thisWorkersChannel: PrimaryChannel | undefined;

/** This worker's channel to the primary, made on first use; only in a worker of --workers. */
export function primaryChannelOf(config: GatewayConfig): PrimaryChannel {
  if (!isWorkerOfPrimary(config)) throw new Error('not a worker of the --workers primary');
  if (!thisWorkersChannel) {
    const channel = new PrimaryChannel((message) => {
      if (process.connected) process.send!(message);
    }, config.redisTimeoutMs);
    process.on('message', (message) => channel.receive(message));
    thisWorkersChannel = channel;
  }
  return thisWorkersChannel;
}
