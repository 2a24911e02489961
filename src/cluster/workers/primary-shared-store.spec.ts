import { afterEach, describe, expect, it } from 'vitest';
import { answerHits } from '../../proxy/rate-limit/primary-sliding-window.storage.js';
import { SlidingWindowThrottlerStorage } from '../../proxy/rate-limit/sliding-window.storage.js';
import type { AnswersMessage, PrimaryToWorker, WorkerToPrimary } from './ipc-messages.js';
import { answerCalls } from './primary-calls.js';
import { PrimaryChannel, PrimaryUnavailableError } from './primary-channel.js';
import { PrimarySharedStore } from './primary-shared-store.js';
import { SharedStoreHost } from './shared-store-host.js';

/** Messages as node:cluster's IPC carries them: JSON, delivered on a later turn of the event loop. */
const overIpc = <T>(message: T, deliver: (message: T) => void) => setImmediate(() => deliver(JSON.parse(JSON.stringify(message)) as T));

/**
 * A primary and `workers` workers wired the way node:cluster wires them, minus the processes:
 * each worker's PrimaryChannel talks to answerCalls over a JSON channel, broadcasts reach all.
 */
function cluster(workers: number, options: { deadlineMs?: number; silent?: boolean } = {}) {
  let now = 0;
  const channels: PrimaryChannel[] = [];
  const toWorkers = (message: PrimaryToWorker) => {
    for (const channel of channels) overIpc(message, (delivered) => channel.receive(delivered));
  };
  const store = new SharedStoreHost((channel, message) => toWorkers({ gw: 'broadcast', channel, message }), () => now);
  const window = new SlidingWindowThrottlerStorage();
  const services = { store, answerHits: (hits: readonly (string | number)[], answers: number[]) => answerHits(window, hits, answers), metrics: () => Promise.resolve(null) };
  for (let i = 0; i < workers; i++) {
    const channel: PrimaryChannel = new PrimaryChannel((message: WorkerToPrimary) => {
      if (options.silent || message.gw !== 'calls') return;
      overIpc(message, (calls) => answerCalls(calls, services, (answers: AnswersMessage) => overIpc(answers, (delivered) => channel.receive(delivered))));
    }, options.deadlineMs ?? 1_000);
    channels.push(channel);
  }
  const stores = channels.map((channel) => new PrimarySharedStore(channel, options.deadlineMs ?? 1_000));
  return { stores, channels, host: store, window, advance: (ms: number) => (now += ms) };
}

describe(PrimarySharedStore.name, () => {
  let closing: SharedStoreHost[] = [];
  afterEach(() => {
    for (const host of closing) host.close();
    closing = [];
  });
  const start = (...args: Parameters<typeof cluster>) => {
    const made = cluster(...args);
    closing.push(made.host);
    return made;
  };

  it('writes a value every worker reads, with its remaining time to live', async () => {
    const { stores, advance } = start(2);
    expect(await stores[0].put('lease', 'a', 1_000)).toBe(true);
    advance(400);
    expect(await stores[1].read('lease')).toEqual({ value: 'a', ttlMs: 600 });
  });

  it('forgets a value once its time to live is over', async () => {
    const { stores, advance } = start(2);
    await stores[0].put('opening', 'x', 500);
    advance(500);
    expect(await stores[1].read('opening')).toBeUndefined();
    expect(await stores[1].put('opening', 'y', 500, true)).toBe(true);
  });

  it('writes only if absent when asked: the second worker does not get the lease', async () => {
    const { stores } = start(2);
    const [first, second] = await Promise.all([stores[0].put('probe', 'w1', 1_000, true), stores[1].put('probe', 'w2', 1_000, true)]);
    expect([first, second]).toEqual([true, false]);
    expect((await stores[1].read('probe'))?.value).toBe('w1');
    expect(await stores[1].put('probe', 'w2', 1_000)).toBe(true);
    expect((await stores[0].read('probe'))?.value).toBe('w2');
  });

  it("removes a key only while it holds the caller's value", async () => {
    const { stores } = start(2);
    await stores[0].put('lease', 'w1', 1_000);
    await stores[1].removeIf('lease', 'w2');
    expect((await stores[0].read('lease'))?.value).toBe('w1');
    await stores[0].removeIf('lease', 'w1');
    expect(await stores[1].read('lease')).toBeUndefined();
  });

  it('delivers a published message to every worker subscribed, the sender included, and to no other channel', async () => {
    const { stores } = start(3);
    const heard: string[] = [];
    await Promise.all(stores.map((store, worker) => store.subscribe('breakers', (message) => heard.push(`${worker}:${message}`))));
    await stores[2].subscribe('other', (message) => heard.push(`other:${message}`));
    await stores[1].publish('breakers', 'open http://b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard.sort()).toEqual(['0:open http://b', '1:open http://b', '2:open http://b']);
  });

  it('refuses a time to live that is not positive, as Redis does', async () => {
    const { stores } = start(1);
    await expect(stores[0].put('k', 'v', 0)).rejects.toThrow('time to live');
  });

  it('rejects within its deadline when the primary does not answer, and says it is unavailable', async () => {
    const { stores } = start(1, { deadlineMs: 30, silent: true });
    const started = performance.now();
    await expect(stores[0].read('k')).rejects.toBeInstanceOf(PrimaryUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
    expect(stores[0].available).toBe(false);
  });
});

describe(PrimaryChannel.name, () => {
  it('counts every worker\'s rate-limit hits in one window: the limit is the whole gateway\'s', async () => {
    const { channels, host } = cluster(2);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => channels[i % 2].hit('10.0.0.1', 1_000, 6, 0, 'default')));
    expect(answers.filter((record) => !record.isBlocked)).toHaveLength(6);
    const refused = answers.find((record) => record.isBlocked)!;
    expect(refused.timeToBlockExpire).toBeGreaterThanOrEqual(1);
    host.close();
  });

  it('sends the hits of one turn of the event loop in one message', async () => {
    const sent: WorkerToPrimary[] = [];
    const channel = new PrimaryChannel((message) => sent.push(message), 20);
    const hits = Array.from({ length: 5 }, () => channel.hit('k', 1_000, 10, 0, 'default').catch((error: unknown) => error));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ gw: 'calls', hits: expect.arrayContaining(['k']) as unknown });
    // Nobody answers: each hit is refused to its caller at the deadline, which then decides alone.
    for (const outcome of await Promise.all(hits)) expect(outcome).toBeInstanceOf(PrimaryUnavailableError);
  });
});
