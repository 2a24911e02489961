import type { ProxyEngine } from '../../src/config/gateway-config.js';

/** Every --proxy-engine: the request-path scenarios run once per engine. */
export const ENGINES: readonly ProxyEngine[] = ['http-proxy-middleware', 'undici'];
