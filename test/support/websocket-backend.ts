import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface WebSocketBackend {
  readonly url: string;
  /** The headers of every upgrade request that reached it, in order. */
  readonly upgrades: IncomingHttpHeaders[];
  /** The headers of every plain request (no upgrade) that reached it. */
  readonly plainRequests: IncomingHttpHeaders[];
  /** WebSocket connections open on the backend now. */
  readonly openClients: () => number;
  close(): Promise<void>;
}

export interface WebSocketBackendOptions {
  /** Answer every upgrade with this status instead of switching protocols. */
  readonly refuseWith?: number;
  /** Prefixed to every echoed message, to tell backends apart. */
  readonly name?: string;
}

/** A real WebSocket echo server (the `ws` package) on 127.0.0.1, which also answers plain requests with 200. */
export async function startWebSocketBackend(options: WebSocketBackendOptions = {}): Promise<WebSocketBackend> {
  const upgrades: IncomingHttpHeaders[] = [];
  const plainRequests: IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    plainRequests.push(req.headers);
    res.end('plain');
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req.headers);
    if (options.refuseWith) {
      socket.end(`HTTP/1.1 ${options.refuseWith} Refused\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => ws.send(options.name && !isBinary ? `${options.name}:${data.toString()}` : data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    plainRequests,
    openClients: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        for (const socket of sockets) socket.destroy();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

/** Opens a WebSocket and resolves once it is open; rejects with the HTTP status when the handshake is refused. */
export function openWebSocket(url: string, headers: Record<string, string> = {}, localAddress?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, localAddress, handshakeTimeout: 5_000 });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString() })));
      ws.once('error', () => undefined);
    });
    ws.once('error', reject);
  });
}

/** Sends one message and resolves with the first one that comes back. */
export function echo(ws: WebSocket, message: string | Buffer): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer, isBinary: boolean) => resolve(isBinary ? data : data.toString()));
    ws.once('error', reject);
    ws.send(message, { binary: Buffer.isBuffer(message) });
  });
}

/** Closes cleanly and resolves once the connection is closed. */
export function closeWebSocket(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });
}
