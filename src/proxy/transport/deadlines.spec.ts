import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DeadlineNode, Deadlines } from './deadlines.js';

function node(name: string): DeadlineNode & { name: string } {
  return { name, dueAt: 0, deadlineList: undefined, previousDue: undefined, nextDue: undefined };
}

describe(Deadlines.name, () => {
  let expired: string[];
  let deadlines: Deadlines;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    expired = [];
    deadlines = new Deadlines((due) => expired.push((due as ReturnType<typeof node>).name));
  });

  afterEach(() => {
    deadlines.close();
    vi.useRealTimers();
  });

  it('expires each node once its duration has passed, in order', () => {
    const [a, b] = [node('a'), node('b')];
    deadlines.start(a, 100);
    vi.advanceTimersByTime(40);
    deadlines.start(b, 100);
    vi.advanceTimersByTime(59);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a']);
    vi.advanceTimersByTime(40);
    expect(expired).toEqual(['a', 'b']);
  });

  it('forgets a stopped node', () => {
    const [a, b] = [node('a'), node('b')];
    deadlines.start(a, 100);
    deadlines.start(b, 100);
    deadlines.stop(a);
    vi.advanceTimersByTime(200);
    expect(expired).toEqual(['b']);
  });

  it('restarts a node from now when started again (a body that keeps flowing is not cut)', () => {
    const a = node('a');
    deadlines.start(a, 100);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(60);
      deadlines.start(a, 100);
    }
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual(['a']);
  });

  it('keeps durations apart: a short deadline started after a long one expires first', () => {
    const [long, short] = [node('long'), node('short')];
    deadlines.start(long, 1_000);
    deadlines.start(short, 50);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual(['short']);
    vi.advanceTimersByTime(950);
    expect(expired).toEqual(['short', 'long']);
  });

  it('leaves no timer behind once every deadline is gone', () => {
    const a = node('a');
    deadlines.start(a, 100);
    deadlines.stop(a);
    vi.advanceTimersByTime(100);
    expect(vi.getTimerCount()).toBe(0);
  });
});
