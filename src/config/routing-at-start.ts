import { ConfigError } from './config.error.js';
import { ConfigFileError, readConfigDocument, resolveConfigDocument, routingFromFlags } from './config-file.js';
import type { GatewayConfig } from './gateway-config.js';
import { sourceOf } from './parse-gateway-config.js';
import type { RoutingConfig } from './routing-config.js';

/**
 * The services and routes to start with: the --config file's, resolved against the flags, or the
 * flags' one service and catch-all route. A file that cannot be used stops the start.
 * @throws ConfigError with one line per problem, each naming the file, the path in it and the value
 */
export function routingAtStart(config: GatewayConfig): RoutingConfig {
  if (config.configPath === undefined) return routingFromFlags(config);
  try {
    return resolveConfigDocument(readConfigDocument(config.configPath), config);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    const where = `invalid ${sourceOf(config, 'configPath')} ${JSON.stringify(config.configPath)}`;
    throw new ConfigError(error.problems.map((problem) => `${where}: ${problem}`).join('\n'));
  }
}
