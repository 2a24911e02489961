import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { UpstreamPool } from './balancer/upstream-pool.js';
import { isWorkerOfPrimary, primaryChannelOf } from './cluster/workers/primary-channel.js';
import { exitOnConfigError } from './config/exit-on-config-error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config.js';
import { createGateway, listenGateway } from './create-gateway.js';
import { GracefulShutdownService } from './lifecycle/graceful-shutdown.service.js';
import { ListenError } from './lifecycle/listen-error.js';

async function bootstrap(): Promise<void> {
  const app = await createGateway({ argv: process.argv.slice(2) }).catch((error: unknown) => {
    exitOnConfigError(error);
    throw error;
  });
  // Our own signal handling rather than Nest's shutdown hooks: drain first, then close the
  // application (its hooks run), then exit 0 — Nest's hooks would re-raise the signal (exit 143).
  const shutdown = app.get(GracefulShutdownService);
  let stopped: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    const drained = shutdown.drain(signal); // a second signal cuts what is left
    stopped ??= drained.then(() => app.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const address = await listenGateway(app).catch((error: unknown) => {
    // One line, no stack trace: the address is taken or not ours, which is no bug of the gateway.
    if (!(error instanceof ListenError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  });
  const config = app.get<GatewayConfig>(GATEWAY_CONFIG);
  const logger = new Logger('Gateway');
  logger.log(`listening on ${urlOf(address, config.tlsCertPath === undefined ? 'http' : 'https')}, proxying to ${proxiedTo(config, app.get(UpstreamPool))} (proxy engine: ${config.proxyEngine})`);
  if (address.admin) logger.log(`admin endpoints (/health, /health/ready, /metrics, /status) on ${urlOf(address.admin)}`);
  if (isWorkerOfPrimary(config)) {
    // A worker of --workers: the primary relays SIGTERM/SIGINT as a message (its workers may not get
    // the signal themselves). A signal this worker got too (Ctrl+C reaches the whole process group)
    // has started the drain already; only the primary's second signal cuts what is left.
    const channel = primaryChannelOf(config);
    channel.onStop(({ signal, cut }) => {
      if (stopped === undefined || cut) stop(signal);
    });
    channel.announceListening(urlOf(address, config.tlsCertPath === undefined ? 'http' : 'https'), address.admin && urlOf(address.admin));
  }
}

/** `--backends`, or with --config its services: `services users (2 backends, least-request) and orders (1 backend, round-robin) from g.yaml`. */
function proxiedTo(config: GatewayConfig, pool: UpstreamPool): string {
  if (config.configPath === undefined) return config.backends.join(', ');
  const services = [...pool.services.values()].map(({ name, upstreams, settings }) => `${name} (${upstreams.length} backend${upstreams.length === 1 ? '' : 's'}, ${settings.balance})`);
  const list = services.length === 1 ? services[0] : `${services.slice(0, -1).join(', ')} and ${services.at(-1)}`;
  return `service${services.length === 1 ? '' : 's'} ${list} from ${config.configPath}`;
}

function urlOf({ address, family, port }: AddressInfo, scheme: 'http' | 'https' = 'http'): string {
  return `${scheme}://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}

await bootstrap();
