// The payment provider's side of `POST /payments/notify`: `X-Payment-Signature: t=<unix seconds>,v1=<hex>`
// with v1 = HMAC-SHA256(secret, "<t>." + raw body). Pure JavaScript (no node:crypto, no async WebCrypto)
// so the same function signs in Node, in a browser and in synchronous test code.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const PAYMENT_SIGNATURE_HEADER = 'X-Payment-Signature';

/** The hex `v1` value: HMAC-SHA256(secret, "<t>." + rawBody). */
export function paymentSignatureV1(secret: string, rawBody: string | Uint8Array, t: number): string {
  const body = typeof rawBody === 'string' ? utf8ToBytes(rawBody) : rawBody;
  return bytesToHex(hmac(sha256, utf8ToBytes(secret), concatBytes(utf8ToBytes(`${t}.`), body)));
}

/**
 * The `X-Payment-Signature` header value for `rawBody`, the exact bytes that will be sent.
 * `t` defaults to now (unix seconds); the server accepts it within 300 s either side.
 */
export function signPayment(
  secret: string,
  rawBody: string | Uint8Array,
  t: number = Math.floor(Date.now() / 1000),
): string {
  return `t=${t},v1=${paymentSignatureV1(secret, rawBody, t)}`;
}
