import type { IncomingMessage } from 'node:http';

/** Whether a request asks to become a WebSocket: the one upgrade proxied (`h2c` and others are served as plain HTTP). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.toLowerCase() === 'websocket';
}
