import cluster from 'node:cluster';

/**
 * V8's young generation, where a proxy's short-lived per-request objects live. On a machine with
 * plenty of memory V8 lets it grow to 64 MiB per semi-space, and under load it does: most of the
 * gateway's RSS (~230 MB against ~160 MB) for no measurable throughput (see bench/FEATURE-COSTS.md).
 * 16 MiB keeps scavenges short and RSS near the peers'. The size can only be set when V8 starts,
 * so the gateway re-executes itself once with the flag (same process id, same file descriptors),
 * before it loads anything else. Give node the flag yourself to choose another size.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size';
export const SEMI_SPACE_MB = 16;

/** Node's own command line and NODE_OPTIONS, as far as this flag goes. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return execArgv.some((arg) => arg.startsWith(SEMI_SPACE_FLAG)) || (nodeOptions ?? '').includes(SEMI_SPACE_FLAG);
}

/**
 * Replaces this process with the same command plus the flag, unless it has one; returns only if it
 * does not. A worker of --workers never re-executes: the primary (which did) forks it with its own
 * node flags (cluster.setupPrimary's execArgv), the semi-space flag included; and an execve would
 * cut the worker off from the cluster's IPC channel.
 */
export function startWithGatewayYoungGeneration(): void {
  if (cluster.isWorker || semiSpaceChosen(process.execArgv, process.env.NODE_OPTIONS) || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, `${SEMI_SPACE_FLAG}=${SEMI_SPACE_MB}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch {
    // A platform without execve (Windows): carry on with V8's default size.
  }
}
