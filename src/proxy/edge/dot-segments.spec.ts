import { describe, expect, it } from 'vitest';
import { withoutDotSegments } from './dot-segments.js';

describe(withoutDotSegments.name, () => {
  it('returns a target without dot segments as the same string', () => {
    const target = '/users/42/orders?expand=items';
    expect(withoutDotSegments(target)).toBe(target);
  });

  it.each([
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
    ['/a/..', '/'],
    ['/.', '/'],
    ['//x/../y', '//y'],
    ['/a/%2E%2e/b?q=/../z', '/b?q=/../z'],
  ])('removes the dot segments of %s (RFC 3986 5.2.4): %s', (target, expected) => {
    expect(withoutDotSegments(target)).toBe(expected);
  });

  it.each(['/..', '/../a', '/a/../..', '/%2e%2E'])('says %s climbs above the root', (target) => {
    expect(withoutDotSegments(target)).toBeUndefined();
  });

  it.each(['/...', '/..a', '/a.', '/%2e%2e%2e', '/%2f..'])('leaves %s alone: not a dot segment', (target) => {
    expect(withoutDotSegments(target)).toBe(target);
  });
});
