import { Injectable, type OnModuleInit } from '@nestjs/common';
import { BalancerService } from './balancer/balancer.service.js';
import { ActiveHealthChecker } from './balancer/health-checks/active-health-checker.js';
import { CircuitBreakerService } from './breaker/circuit-breaker.service.js';
import { RootLogger } from './logging/root-logger.js';
import { MetricsService } from './metrics/metrics.service.js';

/**
 * Who hears what, in one place: the parts that notice something about a backend (breakers, health
 * checks, the balancer) announce it, and this wires each announcement to whoever acts on it. So
 * none of them imports the others, and metrics stays a leaf.
 */
@Injectable()
export class GatewayObservers implements OnModuleInit {
  constructor(
    private readonly breakers: CircuitBreakerService,
    private readonly checks: ActiveHealthChecker,
    private readonly balancer: BalancerService,
    private readonly metrics: MetricsService,
    private readonly logger: RootLogger,
  ) {}

  onModuleInit(): void {
    const { metrics } = this;
    this.breakers.onStateChange((backend, state, origin) => metrics.breakerChanged(backend, state, origin));
    this.checks.onHealthChange((upstream, healthy, origin) => {
      // A breaker may still be open from the failures that came with the outage; the checks now say
      // the backend answers, so it should not wait out a cool-down and a probe as well.
      if (healthy) upstream.breaker.reset(origin);
      metrics.healthChanged(upstream.url, healthy, origin);
    });
    this.balancer.onPanicRouted(() => metrics.panicRouted++);
    const { lines } = this.logger;
    metrics.logLinesDropped = () => lines?.dropped ?? 0;
  }
}
