import { describe, expect, it } from 'vitest';
import { signPayment, verifyPaymentSignature } from './payment-signature.ts';

const secret = 'test-webhook-secret-123';
const body = Buffer.from('{"payment_id":"pay_1","amount":{"amount":100,"currency":"USD"}}');
const now = new Date('2026-11-24T10:00:00Z');
const t = Math.floor(now.getTime() / 1000);

describe('verifyPaymentSignature', () => {
  it('accepts a signature of the exact raw bytes within the tolerance', () => {
    expect(verifyPaymentSignature(secret, signPayment(secret, body, t), body, now)).toBe(true);
    expect(verifyPaymentSignature(secret, signPayment(secret, body, t - 299), body, now)).toBe(true);
  });
  it('refuses a missing, malformed, stale, future, re-keyed or body-altered signature', () => {
    expect(verifyPaymentSignature(secret, undefined, body, now)).toBe(false);
    expect(verifyPaymentSignature(secret, 'garbage', body, now)).toBe(false);
    expect(verifyPaymentSignature(secret, `t=${t}`, body, now)).toBe(false);
    expect(verifyPaymentSignature(secret, signPayment(secret, body, t - 301), body, now)).toBe(false);
    expect(verifyPaymentSignature(secret, signPayment(secret, body, t + 301), body, now)).toBe(false);
    expect(verifyPaymentSignature(secret, signPayment('another-secret-456', body, t), body, now)).toBe(false);
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    expect(verifyPaymentSignature(secret, signPayment(secret, body, t), reformatted, now)).toBe(false);
  });
  it('accepts any one valid v1 among several (secret rotation)', () => {
    const good = signPayment(secret, body, t).split(',')[1];
    expect(verifyPaymentSignature(secret, `t=${t},v1=${'0'.repeat(64)},${good}`, body, now)).toBe(true);
  });
});
