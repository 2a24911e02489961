import { describe, expect, it } from 'vitest';
import { upstreamPath } from './undici.transport.js';

describe(upstreamPath.name, () => {
  it.each([
    ['/', '/users?x=1', '/users?x=1'],
    ['/', '/', '/'],
    ['/api/', '/users', '/api/users'],
    ['/api/', '/users/7?x=1', '/api/users/7?x=1'],
    ['/api/', '/', '/api/'],
    ['/api/', '//double', '/api//double'],
  ])('joins the backend prefix %j and the request path %j into %j, as http-proxy-middleware does', (prefix, url, expected) => {
    expect(upstreamPath(prefix, url)).toBe(expected);
  });
});
