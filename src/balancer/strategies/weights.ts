import type { Upstream } from '../upstream.js';

/** The share a backend starts its slow start with: Envoy's min_weight_percent (10 %), so it is never starved of the traffic that warms it. */
export const RAMP_FLOOR = 0.1;

/**
 * A backend's weight now: its configured weight, or, during slow start, a part of it growing
 * linearly from RAMP_FLOOR to all of it over the ramp (NGINX's slow_start, Envoy's
 * slow_start_config with aggression 1).
 */
export function currentWeight(upstream: Upstream, now: number): number {
  if (upstream.rampMs === 0) return upstream.weight;
  const progress = (now - upstream.rampStartedAt) / upstream.rampMs;
  if (progress < 1) return upstream.weight * Math.max(RAMP_FLOOR, progress);
  // Over: later picks take the plain weight without a clock read.
  upstream.rampMs = 0;
  return upstream.weight;
}

/** Whether every candidate weighs the same and none is ramping: the strategies' fast, unweighted case. */
export function hasUniformWeights(candidates: readonly Upstream[]): boolean {
  const first = candidates[0].weight;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i];
    if (candidate.weight !== first || candidate.rampMs !== 0) return false;
  }
  return true;
}
