import type { AddressInfo } from 'node:net';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AdminListener } from './proxy/edge/admin-listener.js';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { upstreamTlsOptions } from './balancer/upstream-tls.js';
import { ApiKeys } from './proxy/auth/api-keys.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config.js';
import { GatewayConfigModule, type GatewayConfigSource } from './config/gateway-config.module.js';
import { hasHttpsBackends, type RoutingConfig } from './config/routing-config.js';
import { sourceOf } from './config/parse-gateway-config.js';
import { listenOn } from './lifecycle/listen-on.js';
import { QuietBootstrapLogger } from './logging/quiet-bootstrap.logger.js';
import { GatewayHttpAdapter } from './proxy/edge/gateway-http.adapter.js';

export interface CreateGatewayOptions {
  /** `false` silences Nest's own logs (tests); by default they go through pino, as JSON lines. */
  readonly logger?: false;
}

/**
 * Builds the gateway application from flags and environment, initialised but not yet listening.
 * Used by main.ts and by the e2e tests, so both run exactly the same assembly.
 * @throws ConfigError or HelpRequested before any module is created.
 */
export async function createGateway(source: GatewayConfigSource, options: CreateGatewayOptions = {}): Promise<NestExpressApplication> {
  const { module, config, routing } = await GatewayConfigModule.load(source);
  refuseUnusableFiles(config, routing);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(module), GatewayHttpAdapter.fromConfig(config), {
    // The gateway forwards bodies untouched; a parser would consume them (and 413 large ones).
    bodyParser: false,
    abortOnError: false,
    // Held until pino (nestjs-pino) takes over below, so even the first lines come out as JSON.
    bufferLogs: options.logger !== false,
    logger: options.logger,
  });
  if (options.logger !== false) app.useLogger(new QuietBootstrapLogger(app.get(PinoNestLogger)));
  app.disable('x-powered-by');
  await app.init();
  return app;
}

/**
 * Reads the files the flags name (API keys, backend CAs and certificate) once before the application
 * is built: one that cannot be used stops the start with its ConfigError, one line and exit 2, where
 * Nest would first log the error and its stack from the provider that read it. (The --tls-* files
 * are read by GatewayHttpAdapter.fromConfig, which also runs before.)
 */
function refuseUnusableFiles(config: GatewayConfig, routing: RoutingConfig): void {
  ApiKeys.readAtStart(config);
  // Only for https:// backends: a context of some 800 CAs costs start time and memory for nothing otherwise.
  if (hasHttpsBackends(routing)) upstreamTlsOptions(config);
}

/**
 * Starts accepting connections on --listen (and --admin-listen); resolves with the bound addresses.
 * If either cannot be bound, the application is closed (nothing is left listening or running)
 * and the ListenError, one line naming the flag or variable and the address, is thrown.
 */
export async function listenGateway(app: NestExpressApplication): Promise<AddressInfo & { admin?: AddressInfo }> {
  const config = app.get<GatewayConfig>(GATEWAY_CONFIG);
  try {
    // Not app.listen(): it logs the bare Node error itself before rejecting, a second line
    // that names neither the flag nor the variable. The server is the one app.listen() would use.
    const main = await listenOn(app.getHttpServer(), config.listen, sourceOf(config, 'listen'));
    app.get(HttpAdapterHost).listening = true;
    const admin = await app.get(AdminListener).listen();
    return { ...main, admin };
  } catch (error) {
    await app.close();
    throw error;
  }
}
