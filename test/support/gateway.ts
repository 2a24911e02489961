import type { NestExpressApplication } from '@nestjs/platform-express';
import { createGateway, listenGateway } from '../../src/create-gateway.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';

export interface TestGateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The --admin-listen address, when the test set one. */
  readonly adminUrl: string | undefined;
  readonly port: number;
  readonly app: NestExpressApplication;
  readonly metrics: MetricsService;
  close(): Promise<void>;
}

/**
 * Starts the real gateway in this process on 127.0.0.1 and a free port, configured by flags
 * exactly as on the command line, with an empty environment so the machine's variables cannot leak in.
 */
export async function startGateway(argv: readonly string[], env: Record<string, string> = {}): Promise<TestGateway> {
  // No access log unless a test asks for it (the test runner's output is not the place), and no
  // active health checks, whose requests would change what backends count, unless a test asks.
  const defaults = ['--listen=127.0.0.1:0', '--access-log=false', '--health-check-interval=0'];
  const app = await createGateway({ argv: [...defaults, ...argv], env }, { logger: false });
  const { port, admin } = await listenGateway(app);
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl: admin ? `http://127.0.0.1:${admin.port}` : undefined,
    port,
    app,
    metrics: app.get(MetricsService),
    close: () => app.close(),
  };
}

/** `--backends=a,b` from test backends. */
export function backendsFlag(...backends: { url: string }[]): string {
  return `--backends=${backends.map((backend) => backend.url).join(',')}`;
}
