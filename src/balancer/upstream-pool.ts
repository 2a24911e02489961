import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { sourceOf } from '../config/parse-gateway-config.js';
import { Upstream } from './upstream.js';
import { type UpstreamTlsOptions, upstreamTlsOptions } from './upstream-tls.js';

/** Every configured backend, in the order given by --backends. */
@Injectable()
export class UpstreamPool implements OnModuleDestroy {
  readonly upstreams: readonly Upstream[];
  /** How https:// backends are connected to; undefined when none is. */
  readonly tls: UpstreamTlsOptions | undefined;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, breakers: CircuitBreakerService) {
    this.tls = upstreamTlsOptions(config);
    if (config.upstreamInsecure) {
      new Logger('Upstreams').warn(
        `${sourceOf(config, 'upstreamInsecure')}: backend certificates are NOT verified; anyone between the gateway and its backends can read and change the traffic`,
      );
    }
    this.upstreams = config.backends.map(
      (url) => new Upstream(url, breakers.breakerFor(url), config.maxSocketsPerBackend, config.maxInflightPerBackend, this.tls),
    );
  }

  onModuleDestroy(): void {
    for (const upstream of this.upstreams) upstream.close();
  }
}
