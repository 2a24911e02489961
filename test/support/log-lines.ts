import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayProcess } from './gateway-process.js';
import { rawRequest } from './http.js';

/** One JSON line of a gateway's stdout. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** The JSON lines a gateway process has written so far. */
export function linesOf(gateway: GatewayProcess): LogLine[] {
  return gateway
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Waits until something answers /health on the port (for gateways whose log level hides the "listening" line). */
export async function waitUntilServing(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await rawRequest(`http://127.0.0.1:${port}/health`)).status === 200) return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`nothing answered on port ${port}`);
}

/** SIGTERM, then waits for the exit: the gateway writes out what its log still holds. */
export async function stopGateway(gateway: GatewayProcess): Promise<void> {
  gateway.child.kill('SIGTERM');
  await gateway.exited;
}
