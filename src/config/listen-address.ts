/** Where a listener binds: `host` is undefined for `:3000`, which (as in Go) means every interface. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.%\w]+)\]|([^:[\]]*)):(\d{1,5})$/;

/** Parses Go's listen syntax: `:3000`, `127.0.0.1:3000`, `localhost:3000`, `[::1]:3000`. */
export function parseListenAddress(text: string): ListenAddress {
  const match = HOST_PORT.exec(text);
  if (!match) throw new RangeError('expected host:port or :port, such as :3000 or 127.0.0.1:3000');
  const port = Number(match[3]);
  if (port > 65_535) throw new RangeError('the port must be between 0 and 65535');
  const host = match[1] ?? match[2];
  return Object.freeze({ host: host === '' ? undefined : host, port });
}

/** The inverse of parseListenAddress, for logs and URLs. */
export function formatListenAddress({ host, port }: ListenAddress): string {
  if (host === undefined) return `:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
