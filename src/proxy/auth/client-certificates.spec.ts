import { describe, expect, it } from 'vitest';
import { rfc4514 } from './client-certificates.js';

describe(rfc4514.name, () => {
  it('puts the most specific attribute first, comma separated', () => {
    expect(rfc4514('C=DE\nO=Example\nCN=alice')).toBe('CN=alice,O=Example,C=DE');
  });

  it('escapes RFC 4514 specials, and bytes outside printable ASCII as hex', () => {
    expect(rfc4514('O=Smith, Jones & Co\nCN=café')).toBe('CN=caf\\C3\\A9,O=Smith\\, Jones & Co');
  });
});
