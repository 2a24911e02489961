import type { FactoryProvider } from '@nestjs/common';
import { UpstreamPool } from '../../balancer/upstream-pool.js';
import { GATEWAY_CONFIG, type GatewayConfig, type ProxyEngine } from '../../config/gateway-config.js';
import { UpstreamTransport } from './upstream-transport.js';

/** Each engine's library is loaded only when it is the one chosen: the other costs memory for nothing. */
const TRANSPORTS: Record<ProxyEngine, (config: GatewayConfig, pool: UpstreamPool) => Promise<UpstreamTransport>> = {
  undici: async (config, pool) => {
    const { UndiciTransport } = await import('./undici.transport.js');
    const transport = new UndiciTransport(pool.upstreams, config.writeTimeoutMs);
    pool.onChange({ retired: (upstream) => transport.forget(upstream) });
    return transport;
  },
  'http-proxy-middleware': async (config) => {
    const { HttpProxyMiddlewareTransport } = await import('./http-proxy-middleware.transport.js');
    return new HttpProxyMiddlewareTransport(config.writeTimeoutMs);
  },
};

/** The transport --proxy-engine names. */
export const upstreamTransportProvider: FactoryProvider<Promise<UpstreamTransport>> = {
  provide: UpstreamTransport,
  inject: [GATEWAY_CONFIG, UpstreamPool],
  useFactory: (config: GatewayConfig, pool: UpstreamPool) => TRANSPORTS[config.proxyEngine](config, pool),
};
