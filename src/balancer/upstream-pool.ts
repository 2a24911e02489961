import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CircuitBreakerService } from '../breaker/circuit-breaker.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { Upstream } from './upstream.js';

/** Every configured backend, in the order given by --backends. */
@Injectable()
export class UpstreamPool implements OnModuleDestroy {
  readonly upstreams: readonly Upstream[];

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, breakers: CircuitBreakerService) {
    this.upstreams = config.backends.map((url) => new Upstream(url, breakers.breakerFor(url), config.maxSocketsPerBackend, config.maxInflightPerBackend));
  }

  onModuleDestroy(): void {
    for (const upstream of this.upstreams) upstream.close();
  }
}
