import { describe, expect, it } from 'vitest';
import { isUnder } from './path-prefix.js';

describe(isUnder.name, () => {
  it.each([
    ['/orders', '/orders', true],
    ['/orders/7', '/orders', true],
    ['/orders?page=2', '/orders', true],
    ['/ordersX', '/orders', false],
    ['/order', '/orders', false],
    ['/public/x', '/public/', true],
    ['/anything', '/', true],
  ])('%s under %s: %s', (path, prefix, expected) => {
    expect(isUnder(path, prefix)).toBe(expected);
  });
});
