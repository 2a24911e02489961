import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, spawnGateway } from './gateway-process.js';

/** The primary's start line: `primary <pid>: <n> workers on http://host:port`, once every worker listens. */
const PRIMARY_LINE = /primary (\d+): (\d+) workers on http:\/\/\S+:(\d+)/;

export interface WorkersGateway {
  readonly gateway: GatewayProcess;
  /** The primary's pid (the process spawned). */
  readonly pid: number;
  /** The port every worker shares. */
  readonly port: number;
  readonly url: string;
}

/**
 * Runs the built gateway with --workers as its own process (see spawnGateway) and waits for the
 * primary to say every worker listens. `--listen=127.0.0.1:0` is one port for all: node:cluster
 * workers share the primary's listening socket.
 */
export async function startWorkers(args: readonly string[], env: Record<string, string> = {}, limitMs = 30_000): Promise<WorkersGateway> {
  const gateway = spawnGateway(['--listen=127.0.0.1:0', '--health-check-interval=0', ...args], env, limitMs);
  let exited = false;
  void gateway.exited.then(() => (exited = true));
  // The workers' own "listening on" lines may still be in their log batches when a test ends; the primary's line is what counts here.
  gateway.listening.catch(() => undefined);
  for (let waited = 0; waited < 20_000; waited += 50) {
    const match = PRIMARY_LINE.exec(gateway.output().stdout);
    if (match) {
      const port = Number(match[3]);
      return { gateway, pid: gateway.child.pid!, port, url: `http://127.0.0.1:${port}` };
    }
    if (exited) break;
    await sleep(50);
  }
  const { stdout, stderr } = gateway.output();
  killAll(gateway.child.pid!);
  throw new Error(`the primary did not announce its workers:\n${stdout}${stderr}`);
}

/** The direct children of a process, from /proc (Linux). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/))
      .filter((text) => text !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether a process exists (and is not a zombie). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The command line of a process, from /proc. */
export function commandLineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
}

/** SIGKILL to the primary's children, then to the primary: by pid, for afterAll. */
export function killAll(primaryPid: number | undefined): void {
  if (primaryPid === undefined) return;
  for (const child of childrenOf(primaryPid)) {
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(primaryPid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Polls `condition` every 50 ms for at most `limitMs`. */
export async function waitFor(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    if (condition()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${limitMs}ms waiting for ${what}`);
}
