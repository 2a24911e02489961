import { describe, expect, it } from 'vitest';
import { randomUuid, requestIdOf, traceContextOf } from './request-identity.js';

describe(requestIdOf.name, () => {
  it.each(['abc-123', 'a', 'x'.repeat(128), 'req:42/7~!'])('keeps the usable id %j', (id) => {
    expect(requestIdOf({ 'x-request-id': id })).toBe(id);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['longer than 128 characters', 'x'.repeat(129)],
    ['with a space', 'a b'],
    ['with a control character', 'a\tb'],
    ['with non-ASCII', 'café'],
  ])('replaces an id that is %s with a fresh UUID', (_case, id) => {
    const replaced = requestIdOf(id === undefined ? {} : { 'x-request-id': id });
    expect(replaced).not.toBe(id);
    expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives every request its own id', () => {
    expect(requestIdOf({})).not.toBe(requestIdOf({}));
  });
});

describe(traceContextOf.name, () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('forwards a valid traceparent unchanged, trace id intact', () => {
    expect(traceContextOf({ traceparent: valid })).toEqual({ traceparent: valid, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });

  it('accepts a future version with extra fields', () => {
    const future = '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next';
    expect(traceContextOf({ traceparent: future }).traceparent).toBe(future);
  });

  it.each([
    ['missing', undefined],
    ['upper-case', valid.toUpperCase()],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['version 00 with extra fields', `${valid}-extra`],
    ['garbage', 'hello'],
  ])('starts a new sampled trace when the traceparent is %s', (_case, header) => {
    const context = traceContextOf(header === undefined ? {} : { traceparent: header });
    expect(context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(context.traceparent).toBe(`00-${context.traceId}-${context.traceparent.slice(36, 52)}-01`);
    expect(context.traceId).not.toBe('0'.repeat(32));
  });
});

describe(randomUuid.name, () => {
  it('makes version 4 UUIDs of the RFC 9562 variant, all different', () => {
    const made = Array.from({ length: 2_000 }, () => randomUuid());
    for (const uuid of made) expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(made).size).toBe(made.length);
  });
});
