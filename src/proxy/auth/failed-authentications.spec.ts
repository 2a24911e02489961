import { describe, expect, it } from 'vitest';
import { FAILURE_WINDOW_MS, FailedAuthentications, MAX_FAILURES } from './failed-authentications.js';

describe(FailedAuthentications.name, () => {
  it('lets an address try until it has failed MAX_FAILURES times in a window, then not for the rest of it', () => {
    let now = 0;
    const failures = new FailedAuthentications(() => now);
    for (let i = 1; i < MAX_FAILURES; i++) expect(failures.record('10.0.0.1')).toBe(false);
    expect(failures.retryAfterSeconds('10.0.0.1')).toBe(0);
    expect(failures.record('10.0.0.1')).toBe(true);
    now = 15_000;
    expect(failures.retryAfterSeconds('10.0.0.1')).toBe(45);
    // Another address is not affected.
    expect(failures.retryAfterSeconds('10.0.0.2')).toBe(0);
    now = FAILURE_WINDOW_MS;
    expect(failures.retryAfterSeconds('10.0.0.1')).toBe(0);
  });

  it('starts a new window once the old one has passed', () => {
    let now = 0;
    const failures = new FailedAuthentications(() => now);
    for (let i = 0; i < MAX_FAILURES - 1; i++) failures.record('10.0.0.1');
    now = FAILURE_WINDOW_MS + 1;
    expect(failures.record('10.0.0.1')).toBe(false);
    expect(failures.retryAfterSeconds('10.0.0.1')).toBe(0);
  });
});
