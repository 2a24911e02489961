// The entry point (`hash-key` aside: it only prints a key's hash): first the young generation's size (it may restart this process with a V8 flag),
// then the configuration, then either the gateway or, with --workers past 1, the primary that forks
// its workers (each of which comes back here and starts the gateway). Each is loaded only then.
import cluster from 'node:cluster';
import { exitOnConfigError } from './config/exit-on-config-error.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { parseGatewayConfig } from './config/parse-gateway-config.js';
import { startWithGatewayYoungGeneration } from './young-generation.js';

if (process.argv[2] === 'hash-key') {
  const { hashKeyCommand } = await import('./hash-key.js');
  process.exit(await hashKeyCommand(process.argv.slice(3)));
}

startWithGatewayYoungGeneration();

function configOrExit(): GatewayConfig {
  try {
    return parseGatewayConfig(process.argv.slice(2), process.env);
  } catch (error) {
    exitOnConfigError(error);
    throw error;
  }
}

// Parsed here so a bad value is reported once, by the primary, before any worker exists.
const config = cluster.isPrimary ? configOrExit() : undefined;
if (config && config.workers > 1) {
  const { startPrimary } = await import('./start-primary.js');
  startPrimary(config);
} else {
  await import('./bootstrap.js');
}
