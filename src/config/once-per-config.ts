import type { GatewayConfig } from './gateway-config.js';

/**
 * `read` run once per configuration: files a flag names are read before the application is built
 * (so a bad one is one line and exit 2) and then used by the providers; this makes both the same
 * read. Errors are not kept: a read that threw throws again.
 */
export function oncePerConfig<T>(read: (config: GatewayConfig) => T): (config: GatewayConfig) => T {
  const results = new WeakMap<GatewayConfig, T>();
  return (config) => {
    if (results.has(config)) return results.get(config) as T;
    const result = read(config);
    results.set(config, result);
    return result;
  };
}
