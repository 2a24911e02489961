import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamBreaker } from '../breaker/upstream-breaker.js';
import { Upstream, upstreamPath } from './upstream.js';

describe(upstreamPath.name, () => {
  it.each([
    ['/', '/users?x=1', '/users?x=1'],
    ['/', '/', '/'],
    ['/api/', '/users', '/api/users'],
    ['/api/', '/users/7?x=1', '/api/users/7?x=1'],
    ['/api/', '/', '/api/'],
    ['/api/', '//double', '/api//double'],
    ['/api/', '/status?full=1', '/api/status?full=1'],
  ])('joins the backend prefix %j and the path %j into %j, as http-proxy-middleware does', (prefix, url, expected) => {
    expect(upstreamPath(prefix, url)).toBe(expected);
  });
});

describe(Upstream.name, () => {
  const made: Upstream[] = [];
  const upstream = (url: string) => {
    const created = new Upstream(url, new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }));
    made.push(created);
    return created;
  };

  afterEach(() => {
    for (const each of made.splice(0)) each.close();
  });

  it('joins its own path prefix, with or without a trailing slash in the configured URL', () => {
    expect(upstream('http://b:8080/api').pathFor('/users')).toBe('/api/users');
    expect(upstream('http://b:8080/api/').pathFor('/')).toBe('/api/');
    expect(upstream('http://b:8080').pathFor('/users?x=1')).toBe('/users?x=1');
  });

  it('takes no traffic while its health checks fail or it is at its in-flight cap', () => {
    const capped = new Upstream('http://b:8080', new UpstreamBreaker({ failures: 5, cooldownMs: 10_000 }), 256, 1);
    made.push(capped);
    expect(capped.isAvailable()).toBe(true);
    capped.cap!.occupy();
    expect(capped.isAvailable()).toBe(false);
    const sick = upstream('http://c:8080');
    sick.healthy = false;
    expect(sick.isAvailable()).toBe(false);
  });
});
