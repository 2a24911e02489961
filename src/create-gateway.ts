import type { AddressInfo } from 'node:net';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config.js';
import { GatewayConfigModule, type GatewayConfigSource } from './config/gateway-config.module.js';
import { GatewayHttpAdapter } from './gateway-http.adapter.js';

export interface CreateGatewayOptions {
  /** Nest's logger option; tests pass `false`. */
  readonly logger?: LoggerService | LogLevel[] | false;
}

/**
 * Builds the gateway application from flags and environment, initialised but not yet listening.
 * Used by main.ts and by the e2e tests, so both run exactly the same assembly.
 * @throws ConfigError or HelpRequested before any module is created.
 */
export async function createGateway(source: GatewayConfigSource, options: CreateGatewayOptions = {}): Promise<NestExpressApplication> {
  const { module, config } = await GatewayConfigModule.load(source);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(module), GatewayHttpAdapter.fromConfig(config), {
    // The gateway forwards bodies untouched; a parser would consume them (and 413 large ones).
    bodyParser: false,
    abortOnError: false,
    logger: options.logger,
  });
  app.disable('x-powered-by');
  await app.init();
  return app;
}

/** Starts accepting connections on --listen; resolves with the bound address. */
export async function listenGateway(app: NestExpressApplication): Promise<AddressInfo> {
  const { listen } = app.get<GatewayConfig>(GATEWAY_CONFIG);
  await (listen.host === undefined ? app.listen(listen.port) : app.listen(listen.port, listen.host));
  return app.getHttpServer().address() as AddressInfo;
}
