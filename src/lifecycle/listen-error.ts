/** Words for the reasons a listener most often cannot start; anything else keeps Node's message. */
const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'unknown host',
};

/**
 * A listener could not start: `cannot listen on --listen :3000: address already in use`. Its
 * message is the one line the operator sees, naming where the address came from (the flag or its
 * variable). Exit code 1, not 2: the configuration was valid, the machine refused it.
 */
export class ListenError extends Error {
  readonly exitCode = 1;

  /**
   * @param source `--listen` or `LISTEN`, as sourceOf() says
   * @param address the address as configured, `:3000` or `127.0.0.1:3000`
   */
  constructor(source: string, address: string, cause: unknown) {
    super(`cannot listen on ${source} ${address}: ${reasonOf(cause)}`, { cause });
    this.name = 'ListenError';
  }
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  return error instanceof Error ? error.message : String(error);
}
