// Which webhook addresses are public (production) and which URLs pass the shape check.
import { describe, expect, it } from 'vitest';
import { checkUrlShape, isPublicAddress, resolveDeliveryAddresses } from './url-safety.ts';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata (link-local)
    '100.64.0.1', // CGNAT
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1', // unique local
    '::ffff:127.0.0.1', // IPv4-mapped loopback
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    'not-an-ip',
  ])('refuses %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
});

describe('checkUrlShape', () => {
  it('allows only https in production, http too where private URLs are allowed', () => {
    expect(checkUrlShape('https://ota.example/h', false).ok).toBe(true);
    expect(checkUrlShape('http://ota.example/h', false).ok).toBe(false);
    expect(checkUrlShape('http://ota.example/h', true).ok).toBe(true);
    expect(checkUrlShape('ftp://ota.example/h', true).ok).toBe(false);
    expect(checkUrlShape('file:///etc/passwd', true).ok).toBe(false);
    expect(checkUrlShape('https://user:pw@ota.example/h', false).ok).toBe(false);
  });
});

describe('resolveDeliveryAddresses', () => {
  it('refuses a name or a literal that is not public, and allows them where private URLs are allowed', async () => {
    for (const url of [
      'https://127.0.0.1/h',
      'https://[::1]/h',
      'https://[::ffff:7f00:1]/h',
      'https://localhost/h',
    ]) {
      const verdict = await resolveDeliveryAddresses(new URL(url), false);
      expect(verdict.ok, url).toBe(false);
      expect((await resolveDeliveryAddresses(new URL(url), true)).ok, url).toBe(true);
    }
  });
});
