import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsLookup, resolverDnsLookup, systemDnsLookup } from '../src/balancer/discovery/dns-lookup.js';
import { type StubDnsServer, startStubDnsServer } from './support/stub-dns-server.js';

describe('DNS lookups against the tests’ own DNS server', () => {
  let dns: StubDnsServer;
  let lookup: DnsLookup;

  beforeAll(async () => {
    dns = await startStubDnsServer();
    // One try, a short timeout: a query the stub drops fails the test quickly instead of after c-ares's retries.
    lookup = resolverDnsLookup([`${dns.address}:${dns.port}`], { timeoutMs: 2_000, tries: 1 });
  });

  afterAll(async () => {
    await dns.close();
  });

  it('resolves a name to its A and AAAA addresses, sorted and IPv4 first', async () => {
    dns.set('users.internal', ['fd00::2', '10.0.0.3', '10.0.0.2', 'fd00::1']);
    await expect(lookup('users.internal')).resolves.toEqual(['10.0.0.2', '10.0.0.3', 'fd00::1', 'fd00::2']);
  });

  it('follows a change of the records, nothing cached (TTL 0)', async () => {
    dns.set('orders.internal', ['10.0.1.1', '10.0.1.2']);
    await expect(lookup('orders.internal')).resolves.toEqual(['10.0.1.1', '10.0.1.2']);
    dns.set('orders.internal', ['10.0.1.2', '10.0.1.3']);
    await expect(lookup('orders.internal')).resolves.toEqual(['10.0.1.2', '10.0.1.3']);
  });

  it('resolves a name with addresses of one family only', async () => {
    dns.set('v4.internal', ['10.0.2.1']);
    dns.set('v6.internal', ['fd00::21']);
    await expect(lookup('v4.internal')).resolves.toEqual(['10.0.2.1']);
    await expect(lookup('v6.internal')).resolves.toEqual(['fd00::21']);
  });

  it('fails for an unknown name (NXDOMAIN)', async () => {
    await expect(lookup('nobody.internal')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('fails for a name that stops existing', async () => {
    dns.set('gone.internal', ['10.0.3.1']);
    await expect(lookup('gone.internal')).resolves.toEqual(['10.0.3.1']);
    dns.delete('gone.internal');
    await expect(lookup('gone.internal')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('fails for a name that exists with no address', async () => {
    dns.set('empty.internal', []);
    await expect(lookup('empty.internal')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('answers an IP address with itself, without a query', async () => {
    const before = dns.queries;
    await expect(lookup('10.0.4.1')).resolves.toEqual(['10.0.4.1']);
    await expect(lookup('[fd00::41]')).resolves.toEqual(['fd00::41']);
    expect(dns.queries).toBe(before);
  });
});

describe('the system DNS lookup', () => {
  it('resolves localhost from /etc/hosts', async () => {
    const addresses = await systemDnsLookup('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(['127.0.0.1', '::1']).toContain(address);
  });

  it('answers an IP address with itself', async () => {
    await expect(systemDnsLookup('[::1]')).resolves.toEqual(['::1']);
    await expect(systemDnsLookup('127.0.0.1')).resolves.toEqual(['127.0.0.1']);
  });
});
