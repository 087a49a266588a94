// How a service knows a request came through the gateway, and for whom. The gateway signs every
// request it forwards: an HMAC-SHA256, keyed by INTERNAL_TOKEN, over the method, the path and query,
// the caller headers, the request id and a timestamp. A service accepts a caller identity only with a
// valid signature no older than INTERNAL_SIGNATURE_MAX_AGE_MS; a captured header set proves nothing for
// another method, path or caller, nor for long. The secret itself never travels.
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

export const INTERNAL_HEADER = {
  signature: 'x-internal-signature',
  timestamp: 'x-internal-timestamp',
  callerKind: 'x-caller-kind',
  partnerId: 'x-partner-id',
  deviceId: 'x-device-id',
  requestId: 'x-request-id',
} as const;

/** Headers that claim an identity or a proof of one: any of them on a request means "verify me". */
export const IDENTITY_HEADERS = [
  INTERNAL_HEADER.signature,
  INTERNAL_HEADER.timestamp,
  INTERNAL_HEADER.callerKind,
  INTERNAL_HEADER.partnerId,
  INTERNAL_HEADER.deviceId,
  // The shared-token header of earlier versions: a client still sending it is refused, not ignored.
  'x-internal-token',
] as const;

/** How old (or, for clock skew, how far in the future) a signature may be. */
export const INTERNAL_SIGNATURE_MAX_AGE_MS = 60_000;

export type SignedCaller =
  | { kind: 'partner'; partnerId: string }
  | { kind: 'admin' }
  | { kind: 'device'; deviceId: string }
  | { kind: 'none' };

export interface SignedRequest {
  method: string;
  /** Path and query exactly as the service will receive them (`/api/ota/tickets?page=2`). */
  url: string;
  requestId: string;
  caller: SignedCaller;
}

function canonical(method: string, url: string, kind: string, id: string, requestId: string, ts: string) {
  // Newline-separated: none of the parts can contain one (header values and request lines cannot).
  return ['cruise-internal-v1', method.toUpperCase(), url, kind, id, requestId, ts].join('\n');
}

// The key object of the last secret used: the gateway signs and every service verifies each request
// with one secret, and preparing the key is most of an HMAC's cost for a text this short.
let lastSecret: string | undefined;
let lastKey: KeyObject | undefined;

function mac(secret: string, text: string): string {
  if (secret !== lastSecret || !lastKey) {
    lastKey = createSecretKey(Buffer.from(secret, 'utf8'));
    lastSecret = secret;
  }
  return createHmac('sha256', lastKey).update(text).digest('base64url');
}

function callerParts(caller: SignedCaller): [string, string] {
  if (caller.kind === 'partner') return ['partner', caller.partnerId];
  if (caller.kind === 'device') return ['device', caller.deviceId];
  return [caller.kind === 'admin' ? 'admin' : '', ''];
}

/** The headers the gateway adds to a forwarded request (caller headers, timestamp and signature). */
export function signInternalRequest(
  secret: string,
  req: SignedRequest,
  now: number = Date.now(),
): Record<string, string> {
  const [kind, id] = callerParts(req.caller);
  const ts = String(now);
  const headers: Record<string, string> = {
    [INTERNAL_HEADER.requestId]: req.requestId,
    [INTERNAL_HEADER.timestamp]: ts,
    [INTERNAL_HEADER.signature]: mac(secret, canonical(req.method, req.url, kind, id, req.requestId, ts)),
  };
  if (req.caller.kind === 'partner') {
    headers[INTERNAL_HEADER.callerKind] = 'partner';
    headers[INTERNAL_HEADER.partnerId] = req.caller.partnerId;
  } else if (req.caller.kind === 'device') {
    headers[INTERNAL_HEADER.callerKind] = 'device';
    headers[INTERNAL_HEADER.deviceId] = req.caller.deviceId;
  } else if (req.caller.kind === 'admin') {
    headers[INTERNAL_HEADER.callerKind] = 'admin';
  }
  return headers;
}

export type Verification = { ok: true; caller: SignedCaller } | { ok: false; reason: string };

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** True when the request claims an identity (or a proof of one) that must then be verified. */
export function claimsIdentity(headers: Headers): boolean {
  return IDENTITY_HEADERS.some((h) => headers[h] !== undefined);
}

/** Checks the gateway's signature on a request; `requestId` is the id the request carries. */
export function verifyInternalRequest(
  secret: string,
  req: { method: string; url: string; headers: Headers },
  now: number = Date.now(),
): Verification {
  const { headers } = req;
  const signature = single(headers, INTERNAL_HEADER.signature);
  const ts = single(headers, INTERNAL_HEADER.timestamp);
  if (!signature || !ts) return { ok: false, reason: 'unsigned caller headers' };
  if (!/^\d{1,16}$/.test(ts)) return { ok: false, reason: 'malformed timestamp' };
  if (Math.abs(now - Number(ts)) > INTERNAL_SIGNATURE_MAX_AGE_MS) {
    return { ok: false, reason: 'stale or future timestamp' };
  }
  const kind = single(headers, INTERNAL_HEADER.callerKind) ?? '';
  let caller: SignedCaller;
  let id = '';
  if (kind === 'partner') {
    id = single(headers, INTERNAL_HEADER.partnerId) ?? '';
    if (!id) return { ok: false, reason: 'partner without id' };
    caller = { kind: 'partner', partnerId: id };
  } else if (kind === 'device') {
    id = single(headers, INTERNAL_HEADER.deviceId) ?? '';
    if (!id) return { ok: false, reason: 'device without id' };
    caller = { kind: 'device', deviceId: id };
  } else if (kind === 'admin') {
    caller = { kind: 'admin' };
  } else if (kind === '') {
    caller = { kind: 'none' };
  } else {
    return { ok: false, reason: 'unknown caller kind' };
  }
  const requestId = single(headers, INTERNAL_HEADER.requestId) ?? '';
  const expected = Buffer.from(mac(secret, canonical(req.method, req.url, kind, id, requestId, ts)));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad signature' };
  }
  return { ok: true, caller };
}
