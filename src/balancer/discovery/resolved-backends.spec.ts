import { describe, expect, it } from 'vitest';
import { expandBackendUrl } from './resolved-backends.js';

describe(expandBackendUrl.name, () => {
  it.each([
    ['http://users.internal:8080/api', ['10.0.0.2'], ['http://10.0.0.2:8080/api']],
    ['http://users.internal:8080', ['10.0.0.2', '10.0.0.3'], ['http://10.0.0.2:8080', 'http://10.0.0.3:8080']],
    ['http://users.internal', ['10.0.0.2'], ['http://10.0.0.2']],
    ['http://users.internal:80/', ['10.0.0.2'], ['http://10.0.0.2:80/']],
    ['https://users.internal:8443/v1/', ['10.0.0.2'], ['https://10.0.0.2:8443/v1/']],
    ['http://users.internal:8080/api', ['fd00::2'], ['http://[fd00::2]:8080/api']],
    ['http://users.internal/api', ['::1'], ['http://[::1]/api']],
    ['http://users.internal:8080', ['fe80::1%eth0'], ['http://[fe80::1%25eth0]:8080']],
    ['http://Users.Internal:8080/Api?x=1#top', ['10.0.0.2'], ['http://10.0.0.2:8080/Api?x=1#top']],
    ['http://user:secret@users.internal:8080/api', ['10.0.0.2'], ['http://user:secret@10.0.0.2:8080/api']],
    ['http://[fd00::1]:8080/api', ['fd00::2'], ['http://[fd00::2]:8080/api']],
    ['http://[fd00::1]/api', ['10.0.0.2'], ['http://10.0.0.2/api']],
    ['http://users.internal:8080/api', [], []],
  ])('expands %s with %j to %j', (url, addresses, expected) => {
    expect(expandBackendUrl(url, addresses)).toEqual(expected);
  });

  it('keeps the order of the addresses it is given', () => {
    expect(expandBackendUrl('http://users.internal:8080', ['10.0.0.3', '10.0.0.1'])).toEqual(['http://10.0.0.3:8080', 'http://10.0.0.1:8080']);
  });

  it.each(['users.internal:8080', '/api', 'not a url'])('throws for %j, which is not an absolute URL with a host', (url) => {
    expect(() => expandBackendUrl(url, ['10.0.0.2'])).toThrow(TypeError);
  });
});
