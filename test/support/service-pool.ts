import { ServicePool } from '../../src/balancer/service-pool.js';
import type { Upstream } from '../../src/balancer/upstream.js';
import type { UpstreamPool } from '../../src/balancer/upstream-pool.js';
import { routingFromFlags } from '../../src/config/config-file.js';
import { parseGatewayConfig } from '../../src/config/parse-gateway-config.js';
import { DEFAULT_SERVICE } from '../../src/config/routing-config.js';

/** One service over `upstreams`, with the settings `flags` give (the defaults without: round robin). */
export function serviceOver(upstreams: readonly Upstream[], flags: readonly string[] = []): ServicePool {
  const settings = routingFromFlags(parseGatewayConfig(flags, {})).services.get(DEFAULT_SERVICE)!.settings;
  return new ServicePool(DEFAULT_SERVICE, settings, upstreams);
}

/** An UpstreamPool of these services, for unit specs: what the balancer, checks and tries read of it. */
export function poolOf(...services: ServicePool[]): UpstreamPool {
  const byName = new Map(services.map((service) => [service.name, service]));
  return {
    services: byName,
    upstreams: services.flatMap((service) => service.upstreams),
    service: (name: string) => byName.get(name),
    onChange: () => undefined,
  } as unknown as UpstreamPool;
}
