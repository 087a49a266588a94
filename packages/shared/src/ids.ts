// Identifiers, secrets and ticket codes.
import { hash, randomBytes, randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID();

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Base32 (Crockford alphabet, no padding) of the given bytes. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

/**
 * A ticket code: 120 random bits as 24 base32 characters. Pure randomness, no check digit and no
 * sequence, so a code reveals nothing about any other code.
 */
export function newTicketCode(): string {
  return base32(randomBytes(15));
}

/** A UUID in its canonical text form (any version; either case). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: string): boolean => UUID_RE.test(value);

export const TICKET_CODE_RE = /^[0-9A-HJKMNP-TV-Z]{24}$/;

/** A secret shown once to its owner (API key, device key): prefix + 256 random bits. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function sha256Hex(value: string): string {
  // The one-shot digest: no Hash object per call (the gateway hashes every API key it is shown).
  return hash('sha256', value, 'hex');
}
