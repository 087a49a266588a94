// Where a webhook may point: https to a public address, unless the deployment allows private URLs
// (WEBHOOK_ALLOW_PRIVATE_URLS, the development default). Checked when a webhook is saved and again
// at every delivery, on every address the name resolves to (DNS can change; one bad address is enough
// to refuse), and the connection then goes to an address that passed the check.
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** The shape check (no DNS): scheme, no credentials in the URL. */
export function checkUrlShape(raw: string, allowPrivate: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    return { ok: false, reason: `the URL must use ${allowPrivate ? 'http or https' : 'https'}` };
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed' };
  if (!url.hostname) return { ok: false, reason: 'the URL has no host' };
  return { ok: true, url };
}

/**
 * True for an address a webhook may reach in production: ipaddr.js's `unicast` range only, which
 * excludes loopback, private (10/8, 172.16/12, 192.168/16), link-local, CGNAT (100.64/10), unique-local
 * IPv6, multicast, reserved and unspecified; IPv4-mapped IPv6 is judged as the IPv4 it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  return ip.range() === 'unicast';
}

/** Strips the brackets of an IPv6 literal host (`[::1]` → `::1`). */
function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * The addresses to connect to, all checked; a refusal when any of them is not public (unless private
 * URLs are allowed). A name that does not resolve is a refusal too.
 */
export async function resolveDeliveryAddresses(
  url: URL,
  allowPrivate: boolean,
): Promise<{ ok: true; addresses: { address: string; family: number }[] } | { ok: false; reason: string }> {
  const host = bareHost(url.hostname);
  let addresses: { address: string; family: number }[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      return {
        ok: false,
        reason: `${host} does not resolve (${(err as { code?: string }).code ?? 'error'})`,
      };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} has no address` };
  if (!allowPrivate) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) return { ok: false, reason: `${host} resolves to a non-public address (${bad.address})` };
  }
  return { ok: true, addresses };
}
