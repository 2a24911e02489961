import type { BalanceStrategyName } from '../../config/routing-config.js';
import type { BalancingStrategy } from './balancing-strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';

/** Each strategy a service may name (`balance`), made fresh for each service: a strategy keeps its own state. */
export const STRATEGIES: Readonly<Record<BalanceStrategyName, () => BalancingStrategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
};
