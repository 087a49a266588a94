// Identifiers, secrets and ticket codes.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

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

/** `count` ticket codes as newTicketCode makes them, from one call to the CSPRNG (a batch chunk's worth). */
export function newTicketCodes(count: number): string[] {
  const bytes = randomBytes(15 * count);
  const codes = new Array<string>(count);
  for (let i = 0; i < count; i++) codes[i] = base32(bytes.subarray(15 * i, 15 * i + 15));
  return codes;
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
  return createHash('sha256').update(value).digest('hex');
}
