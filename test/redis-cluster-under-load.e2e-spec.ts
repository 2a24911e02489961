import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backend.js';
import { backendsFlag, startGateway, type TestGateway } from './support/gateway.js';
import { answersPing, startRedis, type TestRedis } from './support/redis.js';

/** Per client per second. */
const LIMIT = 60;
const REDIS_TIMEOUT_MS = 50;

/** One request of a paced run, times in ms since the run started. */
interface Sent {
  readonly sentAtMs: number;
  doneAtMs: number | undefined;
  status: number | undefined;
  error: string | undefined;
}

/**
 * One client sending `perSecond` requests a second for `durationMs`, each to the next gateway in
 * turn, at a steady pace (not waiting for answers), over keep-alive connections; resolves when every
 * answer is in. `onTick` runs every 10 ms with the run's clock, to cause an outage mid-run.
 */
async function pacedRun(gateways: TestGateway[], perSecond: number, durationMs: number, onTick?: (nowMs: number) => void): Promise<Sent[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const sent: Sent[] = [];
  const answers: Promise<void>[] = [];
  const started = performance.now();
  const now = () => performance.now() - started;
  const gap = 1_000 / perSecond;
  while (now() < durationMs) {
    while (sent.length * gap <= now() && sent.length * gap < durationMs) {
      const record: Sent = { sentAtMs: now(), doneAtMs: undefined, status: undefined, error: undefined };
      sent.push(record);
      const gateway = gateways[sent.length % gateways.length];
      answers.push(
        new Promise<void>((resolve) => {
          const req = http.get(`${gateway.url}/`, { agent, timeout: 5_000 }, (res) => {
            res.resume();
            res.on('end', () => {
              record.status = res.statusCode;
              record.doneAtMs = now();
              resolve();
            });
          });
          req.on('timeout', () => req.destroy(new Error('client timeout')));
          req.on('error', (error: NodeJS.ErrnoException) => {
            record.error = error.code ?? error.message;
            record.doneAtMs = now();
            resolve();
          });
        }),
      );
    }
    onTick?.(now());
    await sleep(2);
  }
  await Promise.all(answers);
  agent.destroy();
  return sent;
}

const admittedIn = (sent: Sent[], fromMs: number, toMs: number) => sent.filter((one) => one.status === 200 && one.sentAtMs >= fromMs && one.sentAtMs < toMs).length;
const latencyOf = (one: Sent) => (one.doneAtMs ?? Infinity) - one.sentAtMs;

/** The most admitted requests in any one-second interval starting at an admitted request. */
function busiestSecond(sent: Sent[]): number {
  const times = sent.filter((one) => one.status === 200).map((one) => one.sentAtMs);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + 1_000) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('three gateways, one client at twice its limit, Redis up, killed and frozen', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let gateways: TestGateway[] = [];
  let testNumber = 0;

  beforeAll(async () => {
    redis = await startRedis();
    backend = await startBackend();
  });

  beforeEach(async () => {
    const argv = [backendsFlag(backend), `--rate-limit=${LIMIT}`, `--redis-url=${redis.url}`, `--redis-prefix=load-${process.pid}-${++testNumber}:`, `--redis-timeout=${REDIS_TIMEOUT_MS}ms`];
    gateways = await Promise.all([0, 1, 2].map(() => startGateway(argv)));
  });

  afterEach(async () => {
    redis.thaw();
    if (!(await answersPing(redis.port))) await redis.start();
    await Promise.all(gateways.map((gateway) => gateway.close()));
  });

  afterAll(async () => {
    await backend?.close();
    await redis?.stop();
  });

  it('admits 95-110 % of the limit over 5 s, and never more than 1.10 x the limit in any rolling second', async () => {
    const sent = await pacedRun(gateways, 2 * LIMIT, 5_000);
    expect(sent.filter((one) => one.status !== 200 && one.status !== 429)).toEqual([]);
    const admitted = admittedIn(sent, 0, 5_000);
    expect(admitted).toBeGreaterThanOrEqual(0.95 * 5 * LIMIT);
    expect(admitted).toBeLessThanOrEqual(1.1 * 5 * LIMIT);
    expect(busiestSecond(sent)).toBeLessThanOrEqual(1.1 * LIMIT);
  });

  for (const outage of ['killed', 'frozen'] as const) {
    it(`loses no request when Redis is ${outage} under load, delays none past the deadline, still limits at a third each, and shares again within 2 s`, async () => {
      const OUTAGE_AT_MS = 1_500;
      const BACK_AT_MS = 4_000;
      let out = false;
      let back = false;
      const sent = await pacedRun(gateways, 2 * LIMIT, 7_000, (nowMs) => {
        if (!out && nowMs >= OUTAGE_AT_MS) {
          out = true;
          if (outage === 'killed') void redis.kill();
          else redis.freeze();
        }
        if (!back && nowMs >= BACK_AT_MS) {
          back = true;
          if (outage === 'killed') void redis.start();
          else redis.thaw();
        }
      });
      expect(sent.filter((one) => one.error !== undefined || (one.status !== 200 && one.status !== 429))).toEqual([]);
      const slowestBefore = Math.max(...sent.filter((one) => one.sentAtMs < OUTAGE_AT_MS).map(latencyOf));
      const slowestDuring = Math.max(...sent.filter((one) => one.sentAtMs >= OUTAGE_AT_MS).map(latencyOf));
      expect(slowestDuring).toBeLessThanOrEqual(slowestBefore + REDIS_TIMEOUT_MS + 150);
      // A whole second into the outage: each gateway alone admits a third of the limit.
      const alone = admittedIn(sent, OUTAGE_AT_MS + 1_000, OUTAGE_AT_MS + 2_000);
      expect(alone).toBeGreaterThanOrEqual(0.8 * LIMIT);
      expect(alone).toBeLessThanOrEqual(1.1 * LIMIT);
      // Back on Redis within 2 s of its return, and the limit is shared again (the last second of the run).
      expect(gateways.map((gateway) => gateway.metrics.redis?.up)).toEqual([true, true, true]);
      expect(gateways.map((gateway) => gateway.metrics.redis?.fallbacks)).toEqual([1, 1, 1]);
      const shared = admittedIn(sent, BACK_AT_MS + 2_000, BACK_AT_MS + 3_000);
      expect(shared).toBeGreaterThanOrEqual(0.8 * LIMIT);
      expect(shared).toBeLessThanOrEqual(1.1 * LIMIT);
    });
  }
});
