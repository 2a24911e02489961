import type { FactoryProvider } from '@nestjs/common';
import { UpstreamPool } from '../../balancer/upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig, type ProxyEngine } from '../../config/gateway-config.js';
import { HttpProxyMiddlewareTransport } from './http-proxy-middleware.transport.js';
import { UndiciTransport } from './undici.transport.js';
import { UpstreamTransport } from './upstream-transport.js';

const TRANSPORTS: Record<ProxyEngine, (config: GatewayConfig, pool: UpstreamPool) => UpstreamTransport> = {
  'http-proxy-middleware': (config) => new HttpProxyMiddlewareTransport(config.writeTimeoutMs),
  undici: (config, pool) => new UndiciTransport(pool.upstreams, config.writeTimeoutMs, config.maxSocketsPerBackend),
};

/** The transport --proxy-engine names. */
export const upstreamTransportProvider: FactoryProvider<UpstreamTransport> = {
  provide: UpstreamTransport,
  inject: [GATEWAY_CONFIG, UpstreamPool],
  useFactory: (config: GatewayConfig, pool: UpstreamPool) => TRANSPORTS[config.proxyEngine](config, pool),
};
