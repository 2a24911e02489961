import type { BalanceStrategyName, ServiceSettings } from '../../config/routing-config.js';
import type { BalancingStrategy } from './balancing-strategy.js';
import { ConsistentHashStrategy } from './consistent-hash.strategy.js';
import { LeastRequestStrategy } from './least-request.strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

/** Each strategy a service may name (`balance`), made fresh for each service: a strategy keeps its own state. */
export const STRATEGIES: Readonly<Record<BalanceStrategyName, (settings: ServiceSettings) => BalancingStrategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
  'least-request': () => new LeastRequestStrategy(),
  'consistent-hash': (settings) => new ConsistentHashStrategy(settings.boundedLoad),
};
