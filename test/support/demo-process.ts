import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('../..', import.meta.url));

export interface DemoProcess {
  /** The `npm run demo` process itself. */
  readonly npm: ChildProcessWithoutNullStreams;
  /** Everything written so far, stdout and stderr together. */
  readonly output: () => string;
  /** Resolves with npm's exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Kills whatever is still running in the demo's process group: the net under a test that failed. */
  readonly killLeftovers: () => void;
}

/**
 * `npm run demo` as a user would type it, on the given ports (DEMO_PORTS) and with dist/ as built
 * (the tests build once, first; rebuilding here would empty dist/ under the other tests). npm runs
 * in a process group of its own, so whatever a broken demo leaves behind can be found and killed.
 */
export function spawnDemo(ports: { gateway: number; backends: [number, number] }, limitMs = 20_000): DemoProcess {
  const npm = spawn('npm', ['run', 'demo'], {
    cwd: repository,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DEMO_PORTS: [ports.gateway, ...ports.backends].join(','),
      DEMO_SKIP_BUILD: '1',
    },
  });
  let output = '';
  npm.stdout.on('data', (data: Buffer) => (output += data.toString()));
  npm.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const killLeftovers = () => {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // nothing left in the group
    }
  };
  const guard = setTimeout(killLeftovers, limitMs);
  const exited = new Promise<number | null>((resolve) =>
    npm.on('close', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  return { npm, output: () => output, exited, killLeftovers };
}

/** True when nothing accepts connections on the loopback port. */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
