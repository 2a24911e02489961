import type { AnswersMessage, CallsMessage, MetricsFormat, PrimaryOperation } from './ipc-messages.js';
import type { SharedStoreHost } from './shared-store-host.js';

/** What the primary answers workers' calls with. */
export interface PrimaryServices {
  /** Decides a batch of rate-limit hits (HIT_FIELDS each) in the workers' shared window, appending HIT_ANSWER_FIELDS per hit. */
  readonly answerHits: (hits: readonly (string | number)[], answers: number[]) => void;
  readonly store: SharedStoreHost;
  /** The whole gateway's metrics, gathered from every worker. */
  readonly metrics: (format: MetricsFormat) => Promise<unknown>;
}

/**
 * Answers one worker's batch: the hits and the shared store's operations at once, in one message;
 * a metrics request later, in a message of its own, once every worker's numbers are in.
 */
export function answerCalls({ hits, ops }: CallsMessage, services: PrimaryServices, reply: (message: AnswersMessage) => void): void {
  const hitAnswers: number[] = [];
  if (hits) services.answerHits(hits, hitAnswers);
  const opAnswers: unknown[] = [];
  if (ops) {
    for (let i = 0; i < ops.length; i += 2) {
      const id = ops[i] as number;
      const operation = ops[i + 1] as PrimaryOperation;
      if (operation.op === 'metrics') {
        services.metrics(operation.format).then(
          (value) => reply({ gw: 'answers', ops: [id, 1, value] }),
          (error: unknown) => reply({ gw: 'answers', ops: [id, 0, String(error)] }),
        );
        continue;
      }
      try {
        // JSON has no undefined: "nothing" travels as null.
        opAnswers.push(id, 1, operate(services.store, operation) ?? null);
      } catch (error) {
        opAnswers.push(id, 0, error instanceof Error ? error.message : String(error));
      }
    }
  }
  if (hitAnswers.length > 0 || opAnswers.length > 0) {
    reply({ gw: 'answers', hits: hitAnswers.length > 0 ? hitAnswers : undefined, ops: opAnswers.length > 0 ? opAnswers : undefined });
  }
}

function operate(store: SharedStoreHost, operation: Exclude<PrimaryOperation, { op: 'metrics' }>): unknown {
  switch (operation.op) {
    case 'put':
      return store.put(operation.key, operation.value, operation.ttlMs, operation.onlyIfAbsent);
    case 'read':
      return store.read(operation.key);
    case 'removeIf':
      return store.removeIf(operation.key, operation.value);
    case 'publish':
      return store.publish(operation.channel, operation.message);
    default:
      return operation satisfies never;
  }
}
