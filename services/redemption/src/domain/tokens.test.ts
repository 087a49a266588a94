import { newTicketCode } from '@cruise/shared';
import { describe, expect, it } from 'vitest';
import { signQrToken, verifyQrToken } from './tokens.ts';

const KEY = 'test-signing-key-0123456789';
const now = Date.UTC(2026, 10, 24, 9, 30);
const claims = { ticketCode: newTicketCode(), version: 7, expiresAt: now / 1000 + 1800 };

describe('QR tokens', () => {
  it('round-trip, and stay short enough to scan from a phone', () => {
    const token = signQrToken(KEY, claims);
    expect(token.length).toBeLessThan(80);
    expect(verifyQrToken(KEY, token, now)).toEqual({ ok: true, claims });
  });

  it('any single changed character is refused', () => {
    const token = signQrToken(KEY, claims);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ.';
    for (let i = 0; i < token.length; i++) {
      for (const c of alphabet) {
        if (c === token[i]) continue;
        const forged = token.slice(0, i) + c + token.slice(i + 1);
        const check = verifyQrToken(KEY, forged, now);
        expect(check.ok, forged).toBe(false);
        expect(check.ok || check.code).toBe('INVALID_QR');
      }
    }
  });

  it('a token signed with another key is refused', () => {
    expect(verifyQrToken(KEY, signQrToken('another-key-9876543210', claims), now)).toMatchObject({
      ok: false,
      code: 'INVALID_QR',
    });
  });

  it('expires at its expiry, reporting which ticket it names', () => {
    const token = signQrToken(KEY, claims);
    expect(verifyQrToken(KEY, token, claims.expiresAt * 1000 - 1).ok).toBe(true);
    expect(verifyQrToken(KEY, token, claims.expiresAt * 1000)).toEqual({
      ok: false,
      code: 'QR_EXPIRED',
      detail: expect.any(String),
      claims,
    });
  });
});
