import { Worker } from 'node:worker_threads';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import type { Upstream } from '../upstream.js';
import { UpstreamPool } from '../upstream-pool.js';
import type { UpstreamTlsMaterial } from '../upstream-tls.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config/gateway-config.js';
import type { HealthProbe, ProbeSettings } from './health-probe.js';

/** The TLS material of UpstreamTlsOptions, as it can be sent to a thread (a SecureContext cannot). */
type CheckTls = UpstreamTlsMaterial & { readonly rejectUnauthorized: boolean };

/** What the main thread asks of the checking thread, and what it answers. */
type CheckOrder =
  | {
      readonly id: number;
      readonly href: string;
      readonly path: string;
      readonly timeoutMs: number;
      /** For https://: the name the certificate must carry (a backend found by DNS has an address in its URL). */
      readonly servername: string | undefined;
    }
  | { readonly abort: number };
interface CheckVerdict {
  readonly id: number;
  readonly passed: boolean;
}

/**
 * `GET <prefix><--health-check-path>` on a connection of its own: a pass is a 2xx or 3xx answer
 * within --health-check-timeout; any other status, a refused or reset connection, or silence is a
 * failure. The check stays out of the backend's keep-alive pool, so it neither waits behind
 * proxied traffic for a socket nor counts against --max-sockets-per-backend.
 *
 * The checks run in a thread of their own (one for all backends, started with the gateway).
 * node:http's client shares its code with the HTTP server's hot paths (OutgoingMessage, streams);
 * run in the main thread under load, the first check made V8 throw away the optimized code of ~60
 * of those functions, a burst of slow requests five seconds after every start (see
 * bench/FEATURE-COSTS.md). In a thread of its own it has an isolate, and so optimized code, of its own.
 */
@Injectable()
export class HttpHealthProbe implements HealthProbe, OnModuleInit, OnModuleDestroy {
  private readonly checksOn: boolean;
  private worker: Worker | undefined;
  private lastId = 0;
  /** Checks sent to the thread and not answered yet. */
  private readonly waiting = new Map<number, (passed: boolean) => void>();

  /** How the thread connects to https:// backends: the same trust and certificate as requests. */
  private readonly tls: CheckTls | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Optional() pool?: UpstreamPool) {
    const tls = pool?.tls;
    this.tls = tls && { ...tls.material, rejectUnauthorized: tls.rejectUnauthorized };
    this.checksOn = pool ? [...pool.services.values()].some((service) => service.settings.healthCheck.intervalMs > 0) : config.healthCheckIntervalMs > 0;
  }

  /**
   * The thread starts with the gateway, before traffic: starting it makes objects (its streams) the
   * hot code has not met, which is cheap to meet before that code is optimized and not after.
   */
  onModuleInit(): void {
    if (this.checksOn) this.worker ??= this.startWorker();
  }

  check(upstream: Upstream, settings: ProbeSettings, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    const worker = (this.worker ??= this.startWorker());
    const id = ++this.lastId;
    return new Promise((resolve) => {
      const stop = () => {
        worker.postMessage({ abort: id } satisfies CheckOrder);
        this.settle(id, false);
      };
      signal.addEventListener('abort', stop, { once: true });
      this.waiting.set(id, (passed) => {
        signal.removeEventListener('abort', stop);
        resolve(passed);
      });
      const servername = upstream.tlsConnect?.servername || undefined;
      worker.postMessage({ id, href: upstream.target.href, path: upstream.pathFor(settings.path), timeoutMs: settings.timeoutMs, servername } satisfies CheckOrder);
    });
  }

  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.settleAll();
    await worker?.terminate();
  }

  private startWorker(): Worker {
    // The thread runs the source of runChecks (plain JavaScript once compiled), so it needs no file of its own.
    const worker = new Worker(`(${runChecks.toString()})()`, { eval: true, workerData: this.tls satisfies CheckTls | undefined });
    // Checks alone must not keep the process alive (as the checker's timer does not).
    worker.unref();
    worker.on('message', ({ id, passed }: CheckVerdict) => this.settle(id, passed));
    // A thread that dies fails its checks in flight; the next check starts another.
    const lost = () => {
      if (this.worker === worker) this.worker = undefined;
      this.settleAll();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return worker;
  }

  private settle(id: number, passed: boolean): void {
    const answer = this.waiting.get(id);
    this.waiting.delete(id);
    answer?.(passed);
  }

  private settleAll(): void {
    for (const id of this.waiting.keys()) this.settle(id, false); // deleting the key just visited is safe
  }
}

/** The checking thread: one node:http GET per order, one verdict per order. Self-contained: its source is what the thread runs. */
function runChecks(): void {
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const port = parentPort!;
  const tlsData = workerData as CheckTls | undefined;
  // One context for every check, made once (some 800 CAs).
  const secure = tlsData && { secureContext: process.getBuiltinModule('node:tls').createSecureContext(tlsData), rejectUnauthorized: tlsData.rejectUnauthorized };
  const inFlight = new Map<number, import('node:http').ClientRequest>();
  port.on('message', (order: CheckOrder) => {
    if ('abort' in order) {
      inFlight.get(order.abort)?.destroy(new Error('health checks stopped'));
      return;
    }
    const { id, href, path, timeoutMs, servername } = order;
    let answered = false;
    const answer = (passed: boolean) => {
      if (answered) return;
      answered = true;
      port.postMessage({ id, passed } satisfies CheckVerdict);
    };
    const target = new URL(href);
    const req = target.protocol === 'https:' ? https.request(target, { method: 'GET', path, agent: false, ...secure, servername }) : http.request(target, { method: 'GET', path, agent: false });
    inFlight.set(id, req);
    // The timeout bounds the whole check, body included, not just one idle stretch of the socket.
    const timer = setTimeout(() => req.destroy(new Error(`health check timed out after ${timeoutMs} ms`)), timeoutMs);
    req.once('close', () => {
      clearTimeout(timer);
      inFlight.delete(id);
      // Nothing after an answer or an error; otherwise the check ended without either, a failure.
      answer(false);
    });
    req.once('error', () => answer(false));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      answer(status >= 200 && status < 400);
      // The verdict is in the status; the body is read only so the exchange can finish.
      res.on('error', () => undefined);
      res.resume();
    });
    req.end();
  });
}
