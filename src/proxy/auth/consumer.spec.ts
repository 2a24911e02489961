import { describe, expect, it } from 'vitest';
import { Consumer } from './consumer.js';

describe(Consumer.name, () => {
  const roles = {
    reader: [{ methods: ['GET', 'HEAD'], paths: ['/orders', '/public'] }],
    writer: [{ methods: ['POST'], paths: ['/orders'] }],
  };

  it('allows what one of its roles allows, and nothing else', () => {
    const alice = new Consumer({ name: 'alice', keyHash: 'sha256:x', roles: ['reader'] }, roles);
    expect(alice.allows('GET', '/orders/1')).toBe(true);
    expect(alice.allows('HEAD', '/public')).toBe(true);
    expect(alice.allows('POST', '/orders')).toBe(false);
    expect(alice.allows('GET', '/admin')).toBe(false);
    const both = new Consumer({ name: 'bob', keyHash: 'sha256:y', roles: ['reader', 'writer'] }, roles);
    expect(both.allows('POST', '/orders')).toBe(true);
  });

  it('allows every route to a consumer without roles', () => {
    expect(new Consumer({ name: 'ops', keyHash: 'sha256:z' }, roles).allows('DELETE', '/admin')).toBe(true);
  });
});
