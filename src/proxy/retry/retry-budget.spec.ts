import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.js';

/** A budget on a clock the test moves. */
function budgetAt(startMs = 1_000_000) {
  const clock = { now: startMs };
  const budget = new RetryBudget(undefined, () => clock.now);
  return { budget, clock };
}

const withdrawals = (budget: RetryBudget, times: number) => Array.from({ length: times }, () => budget.tryWithdraw()).filter(Boolean).length;

describe(RetryBudget.name, () => {
  it('allows 10 retries a second over the window however few requests there are: 100 at once', () => {
    const { budget } = budgetAt();
    expect(withdrawals(budget, 150)).toBe(100);
  });

  it('adds 20 % of the requests seen in the window to that', () => {
    const { budget } = budgetAt();
    for (let i = 0; i < 1_000; i++) budget.recordRequest();
    expect(withdrawals(budget, 500)).toBe(300);
  });

  it('refuses once spent, until the spent seconds leave the 10 s window', () => {
    const { budget, clock } = budgetAt();
    expect(withdrawals(budget, 100)).toBe(100);
    clock.now += 9_000;
    expect(budget.tryWithdraw()).toBe(false);
    clock.now += 1_000;
    expect(withdrawals(budget, 200)).toBe(100);
  });

  it('forgets requests older than the window, so their share of the budget goes too', () => {
    const { budget, clock } = budgetAt();
    for (let i = 0; i < 1_000; i++) budget.recordRequest();
    clock.now += 10_000;
    expect(withdrawals(budget, 500)).toBe(100);
  });

  it('keeps a sustained failure of every backend to about a fifth more load', () => {
    const { budget, clock } = budgetAt();
    // 60 s at 1,000 requests a second, every one of them failing and asking for a retry.
    let retries = 0;
    for (let second = 0; second < 60; second++) {
      for (let i = 0; i < 1_000; i++) {
        budget.recordRequest();
        if (budget.tryWithdraw()) retries++;
      }
      clock.now += 1_000;
    }
    expect(retries / 60_000).toBeGreaterThan(0.19);
    expect(retries / 60_000).toBeLessThan(0.25);
  });

  it('takes its ratio, minimum and window from the constructor', () => {
    const clock = { now: 0 };
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowSeconds: 2 }, () => clock.now);
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(withdrawals(budget, 10)).toBe(4);
    expect(budget.spent).toBe(4);
  });
});
