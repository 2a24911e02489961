import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe(parseDuration.name, () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['5s', 5_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['1.s', 1_000],
    ['1h0m5s', 3_605_000],
    ['300us', 0.3],
    ['300µs', 0.3], // U+00B5 micro sign
    ['300μs', 0.3], // U+03BC Greek mu
    ['1500000ns', 1.5],
    ['1ms300us', 1.3],
    ['+5s', 5_000],
    ['+0', 0],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /expected a duration such as 5s/],
    ['5', /missing unit/],
    ['5x', /expected a duration such as 5s/],
    ['-1s', /cannot be negative/],
    ['s', /expected a duration such as 5s/],
    ['1s2', /missing unit/],
    ['+', /expected a duration such as 5s/],
    ['1 s', /expected a duration such as 5s/],
  ])('refuses %j with a RangeError saying what is wrong', (text, message) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(message);
  });
});

describe(formatDuration.name, () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [59_000, '59s'],
    [125_000, '2m5s'],
    [3_605_000, '1h0m5s'],
    [3_600_000, '1h0m0s'],
    [0.5, '500µs'],
    [0.000_001, '1ns'],
    [0.000_25, '250ns'],
    [1.5, '1.5ms'],
    [-1_500, '-1.5s'],
  ])('writes %d ms as %j, as Go does', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes microseconds with the micro sign U+00B5, as Go does', () => {
    expect(formatDuration(0.25)).toBe('250\u00b5s');
  });

  it.each([0, 0.3, 0.5, 1.3, 500, 999, 1_000, 1_500, 59_000, 90_000, 125_000, 3_600_000, 3_605_000, 86_400_000, 3_600_000.5])(
    'reads back %d ms from its own output',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );
});
