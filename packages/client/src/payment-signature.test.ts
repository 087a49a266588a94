import { describe, expect, it } from 'vitest';
import { paymentSignatureV1, signPayment } from './payment-signature.ts';

describe('signPayment', () => {
  it('matches an HMAC-SHA256 computed independently (openssl dgst -sha256 -hmac)', () => {
    // printf '%s' '1764410400.{"payment_id":"pay_1"}' | openssl dgst -sha256 -hmac 'whsec-test-0123456789'
    const expected = '9bf130319376cbdd65d0c20b3b27c6fdb3d999a8f9f6f6b10f0c04a7f7721516';
    expect(paymentSignatureV1('whsec-test-0123456789', '{"payment_id":"pay_1"}', 1764410400)).toBe(expected);
    expect(signPayment('whsec-test-0123456789', '{"payment_id":"pay_1"}', 1764410400)).toBe(
      `t=1764410400,v1=${expected}`,
    );
  });
  it('signs bytes and the same text alike, and non-ASCII as UTF-8', () => {
    const text = '{"name":"Zhōu 周"}';
    expect(paymentSignatureV1('s', new TextEncoder().encode(text), 1)).toBe(paymentSignatureV1('s', text, 1));
  });
});
