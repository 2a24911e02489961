import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

/** The one line a machine without the server gets: a skipped Redis test would pass CI while checking nothing. */
export const REDIS_SERVER_MISSING = 'redis-server not found: the Redis tests start their own. Install it with: sudo apt-get install redis-server';

/** A real redis-server of the test's own, on a free loopback port, keeping nothing on disk. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Stops it for good (SIGTERM, then SIGKILL); resolves once it has exited. */
  stop(): Promise<void>;
  /** An outage: SIGKILL, as a crash. `start()` brings a new one up on the same port. */
  kill(): Promise<void>;
  /** Starts it again on the same port after `kill()`. */
  start(): Promise<void>;
  /** A server that stops answering but keeps its connections (SIGSTOP), until `thaw()`. */
  freeze(): void;
  thaw(): void;
}

/** Starts `redis-server` (or `command`, for the test of a missing one) on a free port and waits until it answers PING. */
export async function startRedis(command = 'redis-server'): Promise<TestRedis> {
  const port = await freePort();
  let server: ChildProcess = await launch(command, port);
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      server.kill('SIGCONT');
      server.kill('SIGTERM');
      const gone = exited(server);
      const timer = setTimeout(() => server.kill('SIGKILL'), 2_000);
      await gone;
      clearTimeout(timer);
    },
    async kill() {
      server.kill('SIGKILL');
      await exited(server);
    },
    async start() {
      server = await launch(command, port);
    },
    freeze() {
      server.kill('SIGSTOP');
    },
    thaw() {
      server.kill('SIGCONT');
    },
  };
}

/** Exported for its own spec: whether a Redis answers PING on this port. */
export { answersPing };

async function launch(command: string, port: number): Promise<ChildProcess> {
  const child = spawn(command, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error(REDIS_SERVER_MISSING) : error));
    child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited at start (${code ?? signal})`)));
  });
  failed.catch(() => undefined);
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([answersPing(port), failed])) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within 2 s`);
}

/** One inline PING over a raw socket: true on +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
