import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseAdminToken, parseBackendList, parseBoolean, parseByteSize, parseChoice, parseDnsServers, parsePath, parseWholeNumber, parseWorkerCount } from './value-parsers.js';

describe(parseBackendList.name, () => {
  it.each([
    ['http://localhost:8080', ['http://localhost:8080']],
    ['http://a:8080,http://b:8080', ['http://a:8080', 'http://b:8080']],
    [' http://a:8080 ,  http://b:8080 ', ['http://a:8080', 'http://b:8080']],
    ['http://a:8080,,http://b:8080,', ['http://a:8080', 'http://b:8080']],
    ['http://a:8080/', ['http://a:8080']],
    ['http://a:8080//', ['http://a:8080']],
    ['http://b:8080/api', ['http://b:8080/api']],
    ['http://b:8080/api/', ['http://b:8080/api']],
    ['https://secure.example', ['https://secure.example']],
    ['https://secure.example:8443/v1,http://plain:80', ['https://secure.example:8443/v1', 'http://plain:80']],
  ])('reads %j as %j', (text, backends) => {
    expect(parseBackendList(text)).toEqual(backends);
  });

  it.each([
    ['ftp://x', /only http:\/\/ and https:\/\//],
    ['not-a-url', /is not a URL/],
    ['http://user:secret@b:8080', /credentials/],
    ['http://user@b:8080', /credentials/],
    ['http://b:8080/?debug=1', /query or fragment/],
    ['http://b:8080/#top', /query or fragment/],
    ['http://b:8080,http://b:8080', /listed twice/],
    ['http://b:8080,http://b:8080/', /listed twice/],
    ['http://b:8080/api,http://b:8080/api/', /listed twice/],
    ['http://b:8080/?', /query or fragment/],
    ['http://b:8080#', /query or fragment/],
    ['http://b:8080,HTTP://B:8080', /listed twice/],
    ['http://b:80,http://b', /listed twice/],
    ['', /at least one backend/],
    [' , ,', /at least one backend/],
    ['http://a:8080,ftp://x', /ftp:\/\/x/],
  ])('refuses %j with a RangeError', (text, message) => {
    expect(() => parseBackendList(text)).toThrow(RangeError);
    expect(() => parseBackendList(text)).toThrow(message);
  });
});

describe(parseWholeNumber.name, () => {
  it.each([
    ['0', 0],
    ['100', 100],
    ['007', 7],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %j as %d', (text, value) => {
    expect(parseWholeNumber(text)).toBe(value);
  });

  it.each(['-1', '1.5', 'abc', '', ' 1', '1e3', '9007199254740993'])('refuses %j with a RangeError', (text) => {
    expect(() => parseWholeNumber(text)).toThrow(RangeError);
    expect(() => parseWholeNumber(text)).toThrow('expected a whole number');
  });
});

describe(parseWorkerCount.name, () => {
  it.each([
    ['1', 1],
    ['2', 2],
    ['16', 16],
  ])('reads %j as %d', (text, value) => {
    expect(parseWorkerCount(text)).toBe(value);
  });

  it('reads auto as one per core this process may use', () => {
    expect(parseWorkerCount('auto')).toBe(availableParallelism());
  });

  it.each(['0', '-1', '1.5', 'two', '', 'AUTO', ' 2'])('refuses %j with a RangeError', (text) => {
    expect(() => parseWorkerCount(text)).toThrow('expected a whole number of at least 1, or auto');
  });
});

describe(parseBoolean.name, () => {
  it.each([
    ['1', true],
    ['t', true],
    ['T', true],
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['false', false],
    ['FALSE', false],
    ['False', false],
  ])('reads %j as %s, as Go strconv.ParseBool does', (text, value) => {
    expect(parseBoolean(text)).toBe(value);
  });

  it.each(['', 'yes', 'no', 'on', 'tRUE', 'maybe', ' true'])('refuses %j with a RangeError', (text) => {
    expect(() => parseBoolean(text)).toThrow(RangeError);
    expect(() => parseBoolean(text)).toThrow('expected true or false');
  });
});

describe(parseChoice.name, () => {
  const parseScope = parseChoice(['client', 'global'] as const);

  it.each(['client', 'global'])('accepts the choice %j', (text) => {
    expect(parseScope(text)).toBe(text);
  });

  it.each(['world', 'Client', ''])('refuses %j and lists the choices', (text) => {
    expect(() => parseScope(text)).toThrow(RangeError);
    expect(() => parseScope(text)).toThrow('expected one of client, global');
  });
});

describe(parseByteSize.name, () => {
  it.each([
    ['0', 0],
    ['65536', 65_536],
    ['64KiB', 65_536],
    ['64kib', 65_536],
    ['64KB', 64_000],
    ['1MiB', 1_048_576],
    ['2MB', 2_000_000],
    ['100B', 100],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'KiB', '-1', '1.5KiB', '64 furlongs', '1GiB'])('refuses %j with a RangeError', (text) => {
    expect(() => parseByteSize(text)).toThrow(RangeError);
  });
});

describe(parsePath.name, () => {
  it.each(['/', '/healthz', '/status/ready?full=1'])('accepts %j', (text) => {
    expect(parsePath(text)).toBe(text);
  });

  it.each(['', 'healthz', '/with space'])('refuses %j', (text) => {
    expect(() => parsePath(text)).toThrow(RangeError);
  });
});

describe(parseDnsServers.name, () => {
  it.each([
    ['10.0.0.53', ['10.0.0.53']],
    ['127.0.0.1:5353', ['127.0.0.1:5353']],
    ['fd00::53', ['fd00::53']],
    ['[fd00::53]:5353', ['[fd00::53]:5353']],
    [' 10.0.0.53 , 10.0.0.54 ', ['10.0.0.53', '10.0.0.54']],
    ['', []],
  ])('reads %j as %j', (text, servers) => {
    expect(parseDnsServers(text)).toEqual(servers);
  });

  it.each(['dns.example.com', '10.0.0.53:0', '10.0.0.53:99999', '[fd00::53]:x', '10.0.0'])('refuses %j, naming it', (text) => {
    expect(() => parseDnsServers(text)).toThrow(text);
  });
});

describe(parseAdminToken.name, () => {
  it('takes a token of 16 characters or more from the bearer alphabet', () => {
    expect(parseAdminToken('0123456789abcdef')).toBe('0123456789abcdef');
    expect(parseAdminToken('a-b.c_d~e+f/gh0123==')).toBe('a-b.c_d~e+f/gh0123==');
  });

  it.each(['short', 'has space inside it', 'quote"0123456789abc'])('refuses %j', (text) => {
    expect(() => parseAdminToken(text)).toThrow(RangeError);
  });
});
