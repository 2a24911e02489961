import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, HelpRequested } from './config/config.error.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config.js';
import { usage } from './config/flags.js';
import { createGateway, listenGateway } from './create-gateway.js';

async function bootstrap(): Promise<void> {
  const app = await createGateway({ argv: process.argv.slice(2) }).catch((error: unknown) => {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${usage()}\n`);
      process.exit(error.exitCode);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error.exitCode);
    }
    throw error;
  });
  app.enableShutdownHooks();
  const address = await listenGateway(app);
  const config = app.get<GatewayConfig>(GATEWAY_CONFIG);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  new Logger('Gateway').log(`listening on http://${host}:${address.port}, proxying to ${config.backends.join(', ')}`);
}

await bootstrap();
