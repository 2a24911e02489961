import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written so far. */
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves with the port once the gateway logs that it listens; rejects if it exits first. */
  readonly listening: Promise<number>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/**
 * Runs the built gateway (npm test builds first) as its own process, as a user would, with only
 * PATH inherited so the machine's own variables cannot change the outcome. It is killed after
 * `limitMs` if it has not exited by then, so no test can leave it behind.
 */
export function spawnGateway(args: readonly string[], env: Record<string, string> = {}, limitMs = 20_000): GatewayProcess {
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  let announce: ((port: number) => void) | undefined;
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
    const match = /listening on https?:\/\/\S+:(\d+)/.exec(stdout);
    if (match) announce?.(Number(match[1]));
  });
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  const listening = new Promise<number>((resolve, reject) => {
    announce = resolve;
    void exited.then((code) => reject(new Error(`gateway exited (${code}) before listening:\n${stdout}${stderr}`)));
  });
  return { child, output: () => ({ stdout, stderr }), listening, exited };
}
