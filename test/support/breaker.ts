import { vi } from 'vitest';
import type { UpstreamBreaker } from '../../src/breaker/upstream-breaker.js';

/**
 * Reports `times` consecutive failed attempts to a breaker, each settled before the next begins
 * (the outcome reaches cockatiel through a promise it awaits). Needs vitest's fake timers.
 */
export async function failAttempts(breaker: UpstreamBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    breaker.begin().fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await vi.advanceTimersByTimeAsync(0);
  }
}
