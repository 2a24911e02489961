import cluster, { type Worker } from 'node:cluster';
import { isatty } from 'node:tty';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { GatewayConfig } from '../../config/gateway-config.js';
import { type MetricsSnapshot, sumMetricsSnapshots, type WholeProcessSnapshot } from '../../metrics/whole-process-metrics.js';
import { isGatewayMessage, type MetricsFormat, type PrimaryToWorker, type WorkerToPrimary } from './ipc-messages.js';
import { answerCalls, type PrimaryServices } from './primary-calls.js';
import { SharedStoreHost } from './shared-store-host.js';
import { WholeLineRelay } from './whole-line-relay.js';

/** A worker that dies is replaced after this, doubling with every death in a row… */
export const FIRST_RESTART_DELAY_MS = 100;
/** …up to this… */
export const MAX_RESTART_DELAY_MS = 5_000;
/** …and back to the first once a worker has lived this long. */
export const RESTART_RESET_AFTER_MS = 10_000;
/** How long the primary waits for each worker's metrics before answering with those it has. */
const COLLECT_DEADLINE_MS = 1_000;

/** pino's numeric levels, which --log-level names. */
const LEVELS: Readonly<Record<GatewayConfig['logLevel'], number>> = { debug: 20, info: 30, warn: 40, error: 50 };

interface WorkerRecord {
  readonly worker: Worker;
  readonly pid: number;
  readonly startedAt: number;
  listening: boolean;
}

interface Collection {
  readonly results: { pid: number; metrics: unknown }[];
  waiting: number;
  readonly done: () => void;
}

/**
 * The --workers primary: forks the workers (node:cluster), replaces those that die, stops them all
 * on SIGTERM or SIGINT, and is the place their shared state lives when there is no Redis.
 *
 * Why node:cluster rather than SO_REUSEPORT (`reusePort`): it works on every platform Node supports,
 * and it gives the primary an IPC channel to every worker, which the shared rate-limit window, the
 * shared store and the whole-process /metrics need. The workers share the primary's listening
 * socket (so `--listen 127.0.0.1:0` is one port for all); on Linux the primary accepts and hands
 * connections out round-robin (cluster.SCHED_RR, Node's default there), so a keep-alive connection
 * stays on one worker and new ones alternate.
 *
 * The primary does no HTTP and loads no Nest: it answers the workers' calls (rate-limit hits in
 * batches, the shared store's operations, metrics), copies their stdout in whole lines, and logs
 * only its own few lines (start, a worker's death).
 */
export class WorkerPrimary {
  private readonly workers = new Map<number, WorkerRecord>();
  private readonly store: SharedStoreHost;
  private readonly out = new WholeLineRelay(1);
  private readonly pretty = isatty(1);
  private readonly registry = new Registry();
  private restarts = 0;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Until the first worker listens, a worker that exits ends the primary (a listen error must not respawn forever). */
  private started = false;
  private announced = false;
  private stopping = false;
  private stopExitCode = 0;
  private nextCollection = 1;
  private readonly collections = new Map<number, Collection>();

  private readonly services: Omit<PrimaryServices, 'metrics'>;

  constructor(
    private readonly config: GatewayConfig,
    answerHits: PrimaryServices['answerHits'],
  ) {
    this.store = new SharedStoreHost((channel, message) => this.broadcast({ gw: 'broadcast', channel, message }));
    this.services = { answerHits, store: this.store };
    this.registerMetrics();
  }

  start(): void {
    cluster.setupPrimary({
      exec: process.argv[1],
      args: process.argv.slice(2),
      // The young generation's V8 flag (young-generation.ts) and any other node flag: the same for every worker.
      execArgv: process.execArgv,
      // stdout piped, to be copied in whole lines (see WholeLineRelay); on a terminal inherited, where
      // each worker pretty-prints one line per write. stderr is inherited: only short single writes
      // go there (a listen error, a crash's stack), never the access log. No stdin.
      stdio: ['ignore', this.pretty ? 'inherit' : 'pipe', 'inherit', 'ipc'],
    });
    cluster.on('message', (worker, message) => this.receive(worker, message));
    cluster.on('exit', (worker, code: number | null, signal: NodeJS.Signals | null) => this.exited(worker, code, signal));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    // `kill -HUP <primary>` re-reads --config as it does for a single process: each worker reads it.
    process.on('SIGHUP', () => {
      for (const { worker } of this.workers.values()) worker.process.kill('SIGHUP');
    });
    // One first: if it cannot listen (address in use), it says so once and the primary exits as a single gateway would.
    this.fork();
  }

  private fork(): void {
    const worker = cluster.fork();
    const pid = worker.process.pid ?? 0;
    this.workers.set(worker.id, { worker, pid, startedAt: performance.now(), listening: false });
    if (worker.process.stdout) this.out.relay(worker.process.stdout);
  }

  private receive(worker: Worker, message: unknown): void {
    if (!isGatewayMessage<WorkerToPrimary>(message)) return;
    switch (message.gw) {
      case 'calls': {
        const pid = worker.process.pid ?? 0;
        answerCalls(message, { ...this.services, metrics: (format) => this.wholeProcessMetrics(format, pid) }, (answers) => this.send(worker, answers));
        return;
      }
      case 'listening':
        this.listening(worker, message.url);
        return;
      case 'collected': {
        const collection = this.collections.get(message.id);
        if (!collection) return;
        if (message.metrics !== undefined && message.metrics !== null) collection.results.push({ pid: worker.process.pid ?? 0, metrics: message.metrics });
        if (--collection.waiting === 0) collection.done();
        return;
      }
      default:
        message satisfies never;
    }
  }

  private listening(worker: Worker, url: string): void {
    const record = this.workers.get(worker.id);
    if (!record) return;
    record.listening = true;
    if (!this.started) {
      this.started = true;
      for (let i = 1; i < this.config.workers && !this.stopping; i++) this.fork();
    }
    if (this.stopping) {
      // Started while the signal came: it drains like the others.
      this.send(worker, { gw: 'stop', signal: 'SIGTERM', cut: false });
      return;
    }
    const listeningNow = [...this.workers.values()].filter((each) => each.listening).length;
    if (!this.announced && listeningNow === this.config.workers) {
      this.announced = true;
      this.log('info', `primary ${process.pid}: ${this.config.workers} workers on ${url}`);
    }
  }

  private exited(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const record = this.workers.get(worker.id);
    this.workers.delete(worker.id);
    if (!record) return;
    if (this.stopping) {
      if (code !== 0 && signal !== 'SIGTERM') this.stopExitCode = 1;
      if (this.workers.size === 0) void this.finish(this.stopExitCode);
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (!this.started) {
      // The first worker never listened (its stderr said why, once): exit as the single gateway would have.
      void this.finish(code ?? 1);
      return;
    }
    this.restarts++;
    if (performance.now() - record.startedAt >= RESTART_RESET_AFTER_MS) this.restartDelayMs = FIRST_RESTART_DELAY_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
    this.log('warn', `worker ${record.pid} died (${how}); starting another in ${delay}ms`);
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.stopping) this.fork();
    }, delay);
    this.restartTimers.add(timer);
  }

  /** First signal: every worker drains as one gateway does; another: they cut what is left. */
  private stop(signal: NodeJS.Signals): void {
    const cut = this.stopping;
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    if (this.workers.size === 0) {
      void this.finish(this.stopExitCode);
      return;
    }
    for (const { worker, listening } of this.workers.values()) {
      // One still starting has no drain to run yet: SIGTERM ends it before it serves anything.
      if (listening) this.send(worker, { gw: 'stop', signal, cut });
      else worker.process.kill('SIGTERM');
    }
  }

  private async finish(code: number): Promise<void> {
    this.store.close();
    // The workers' last lines (written at their stop) may still be in their pipes.
    await this.out.finished(2_000);
    process.exit(code);
  }

  /**
   * /metrics for the whole gateway: each listening worker's own, gathered for at most a second
   * (a worker that does not answer is left out), summed (JSON) or aggregated by prom-client's
   * AggregatorRegistry (Prometheus), with the primary's own metrics.
   */
  private async wholeProcessMetrics(format: MetricsFormat, askingPid: number): Promise<unknown> {
    const collected = await this.collect(format);
    if (format === 'json') {
      const snapshots = collected.map(({ metrics }) => metrics as MetricsSnapshot);
      const whole: WholeProcessSnapshot = {
        ...sumMetricsSnapshots(snapshots),
        workers: {
          restarts: this.restarts,
          answeredBy: askingPid,
          processes: collected.map(({ pid, metrics }) => ({ pid, requests: (metrics as MetricsSnapshot).requests })),
        },
      };
      return whole;
    }
    const registries = collected.map(({ metrics }) => metrics as Awaited<ReturnType<Registry['getMetricsAsJSON']>>);
    registries.push(await this.registry.getMetricsAsJSON());
    const aggregated = AggregatorRegistry.aggregate(registries);
    return { contentType: aggregated.contentType, body: await aggregated.metrics() };
  }

  private collect(format: MetricsFormat): Promise<{ pid: number; metrics: unknown }[]> {
    const listening = [...this.workers.values()].filter(({ listening: yes }) => yes);
    if (listening.length === 0) return Promise.resolve([]);
    const id = this.nextCollection++;
    return new Promise((resolve) => {
      const results: { pid: number; metrics: unknown }[] = [];
      const done = () => {
        clearTimeout(timer);
        this.collections.delete(id);
        resolve(results);
      };
      const timer = setTimeout(done, COLLECT_DEADLINE_MS);
      this.collections.set(id, { results, waiting: listening.length, done });
      for (const { worker } of listening) this.send(worker, { gw: 'collect', id, format });
    });
  }

  private registerMetrics(): void {
    const live = () => this.workers.size;
    const restarts = () => this.restarts;
    new Counter({
      name: 'gateway_worker_restarts_total',
      help: 'Workers (--workers) that died unexpectedly and were replaced.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(restarts());
      },
    });
    new Gauge({
      name: 'gateway_workers',
      help: 'Worker processes (--workers) running now.',
      registers: [this.registry],
      collect() {
        this.set(live());
      },
    });
  }

  private broadcast(message: PrimaryToWorker): void {
    for (const { worker } of this.workers.values()) this.send(worker, message);
  }

  private send(worker: Worker, message: PrimaryToWorker): void {
    if (!worker.isConnected()) return;
    try {
      worker.send(message);
    } catch {
      // The worker is going away; its calls are decided by itself.
    }
  }

  /** A line of the primary's own, in the workers' format: pino's JSON, or one readable line on a terminal. */
  private log(level: 'info' | 'warn', msg: string): void {
    if (LEVELS[level] < LEVELS[this.config.logLevel]) return;
    if (this.pretty) {
      const time = new Date().toISOString().slice(11, 23);
      this.out.writeLine(`${time} ${level.toUpperCase()}: [Workers] ${msg}\n`);
      return;
    }
    this.out.writeLine(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, context: 'Workers', msg })}\n`);
  }
}
