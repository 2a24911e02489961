import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a test backend saw of one request. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly bodySha256: string;
}

/** Answers a request after its body has been read in full. */
export type BackendHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface TestBackend {
  /** Base URL on 127.0.0.1, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** The path of every request whose head arrived, in order, including requests aborted before their end. */
  readonly arrivals: string[];
  /** TCP connections accepted so far: shows whether the gateway reuses its upstream connections. */
  readonly connections: () => number;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Default answer: 200 with `name` as a text body. */
  readonly name?: string;
  readonly handler?: BackendHandler;
  /** Listen on this port instead of a free one (to restart a backend where it was). */
  readonly port?: number;
}

/** A real HTTP server on 127.0.0.1 that records every request it gets. */
export async function startBackend(options: BackendOptions = {}): Promise<TestBackend> {
  const name = options.name ?? 'backend';
  const handler: BackendHandler =
    options.handler ??
    ((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    });
  const requests: RecordedRequest[] = [];
  const arrivals: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    arrivals.push(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        bodySha256: createHash('sha256').update(body).digest('hex'),
      });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    arrivals,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
