// The payment provider's webhook signature: `t=<unix seconds>,v1=<hex>` with
// v1 = HMAC-SHA256(secret, "<t>." + raw body), accepted within a tolerance window either side of now.
// Verified by the gateway (so a valid signature pays no rate-limit budget) and again by issuance.
// The signing formula is @cruise/client's (the payment provider's side and every test sign with it), so
// the verifier and the signers cannot drift apart.
import { timingSafeEqual } from 'node:crypto';
import { paymentSignatureV1 } from '@cruise/client';

export { signPayment } from '@cruise/client';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** True when `header` carries a v1 signature of `rawBody` made with `secret` at a time close to `now`. */
export function verifyPaymentSignature(
  secret: string,
  header: string | undefined,
  rawBody: Buffer,
  now: Date = new Date(),
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/i.test(v)) candidates.push(v.toLowerCase());
  }
  if (t === undefined || candidates.length === 0) return false;
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(paymentSignatureV1(secret, rawBody, t), 'hex');
  // Several v1 values let the provider rotate secrets; each is compared in constant time.
  return candidates.some((c) => {
    const given = Buffer.from(c, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
