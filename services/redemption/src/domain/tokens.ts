// QR tokens: short signed strings naming a ticket, a version and an expiry. Issuing one bumps the
// ticket's version, so only the newest token of a ticket is honoured at the gate.
//
// Format: `T1.<ticket_code>.<base32(version u32 | expiry u32 | mac 16 bytes)>`. Every character is in
// the QR alphanumeric set (upper-case Crockford base32, `.`), which packs 5.5 bits per character
// instead of 8, so the code stays small and scans reliably from a phone screen. The MAC is
// HMAC-SHA256 truncated to 128 bits over a domain tag, the ticket code, version and expiry.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { base32, type Outcome, type Pool, type PoolClient, refuse } from '@cruise/shared';
import QRCode from 'qrcode';
import { table } from '../db/tables.ts';
import { ensureTicket, findTicket, type TicketSource } from './projection.ts';

const PREFIX = 'T1.';
const MAC_BYTES = 16;
const TAIL_BYTES = 8 + MAC_BYTES;
const MAC_DOMAIN = 'cruise-qr-token-v1';

export interface QrClaims {
  ticketCode: string;
  version: number;
  /** Unix seconds after which the token is refused. */
  expiresAt: number;
}

function mac(key: string, claims: QrClaims): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(claims.version, 0);
  header.writeUInt32BE(claims.expiresAt, 4);
  return createHmac('sha256', key)
    .update(MAC_DOMAIN)
    .update('\0')
    .update(claims.ticketCode)
    .update('\0')
    .update(header)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function signQrToken(key: string, claims: QrClaims): string {
  const tail = Buffer.alloc(TAIL_BYTES);
  tail.writeUInt32BE(claims.version, 0);
  tail.writeUInt32BE(claims.expiresAt, 4);
  mac(key, claims).copy(tail, 8);
  return `${PREFIX}${claims.ticketCode}.${base32(tail)}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_VALUE = new Map([...CROCKFORD].map((c, i) => [c, i]));

/** Strict Crockford base32 decode (upper case, no padding); null on any foreign character. */
function fromBase32(text: string): Buffer | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = CROCKFORD_VALUE.get(ch);
    if (v === undefined) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Canonical form only: unused trailing bits must be zero, so no two strings decode to the same bytes.
  if ((value & ((1 << bits) - 1)) !== 0) return null;
  return Buffer.from(out);
}

export type TokenCheck =
  | { ok: true; claims: QrClaims }
  | { ok: false; code: 'INVALID_QR'; detail: string }
  | { ok: false; code: 'QR_EXPIRED'; detail: string; claims: QrClaims };

/**
 * Checks a token's form and signature, then its expiry. An expired token's claims are returned with
 * the refusal: its signature is good, so the ticket it names is known and may be reported.
 */
export function verifyQrToken(key: string, token: string, nowMs: number): TokenCheck {
  const invalid = {
    ok: false,
    code: 'INVALID_QR',
    detail: 'The QR code is not a valid ticket code',
  } as const;
  if (!token.startsWith(PREFIX)) return invalid;
  const body = token.slice(PREFIX.length);
  const dot = body.lastIndexOf('.');
  if (dot <= 0) return invalid;
  const ticketCode = body.slice(0, dot);
  const tail = fromBase32(body.slice(dot + 1));
  // 24 bytes are 39 base32 characters; anything else was not produced by signQrToken.
  if (!tail || tail.length !== TAIL_BYTES || body.length - dot - 1 !== Math.ceil((TAIL_BYTES * 8) / 5)) {
    return invalid;
  }
  const claims: QrClaims = { ticketCode, version: tail.readUInt32BE(0), expiresAt: tail.readUInt32BE(4) };
  if (!timingSafeEqual(tail.subarray(8), mac(key, claims))) return invalid;
  if (nowMs >= claims.expiresAt * 1000) {
    return { ok: false, code: 'QR_EXPIRED', detail: 'The QR code has expired; show a fresh one', claims };
  }
  return { ok: true, claims };
}

/**
 * Issues a new token for a ticket: increments its QR version (atomically, in the caller's
 * transaction), which supersedes every token issued before.
 */
export async function issueQrToken(
  client: Pool | PoolClient,
  opts: { key: string; ttlSeconds: number; ticketCode: string; nowMs: number },
): Promise<{ token: string; expiresAt: Date; version: number }> {
  const { rows } = await client.query<{ version: number }>(
    `INSERT INTO ${table.qr_versions} (ticket_code, version) VALUES ($1, 1)
     ON CONFLICT (ticket_code) DO UPDATE SET version = qr_versions.version + 1, updated_at = now()
     RETURNING version`,
    [opts.ticketCode],
  );
  const version = rows[0]!.version;
  const expiresAt = Math.floor(opts.nowMs / 1000) + opts.ttlSeconds;
  return {
    token: signQrToken(opts.key, { ticketCode: opts.ticketCode, version, expiresAt }),
    expiresAt: new Date(expiresAt * 1000),
    version,
  };
}

/** The ticket's current QR version (0 when no token was ever issued). */
export async function currentQrVersion(client: PoolClient, ticketCode: string): Promise<number> {
  const { rows } = await client.query<{ version: number }>(
    `SELECT version FROM ${table.qr_versions} WHERE ticket_code = $1`,
    [ticketCode],
  );
  return rows[0]?.version ?? 0;
}

/** The token as a PNG QR code data URL (error correction M: survives a scratched or glaring screen). */
export function qrImageDataUrl(token: string): Promise<string> {
  return QRCode.toDataURL(token, { errorCorrectionLevel: 'M', margin: 2, scale: 6 });
}

/**
 * A fresh QR token for an ACTIVE ticket. `partnerId` limits it to that partner's tickets (another
 * partner's ticket is NOT_FOUND, as if it did not exist); null means the operator, who may issue for any.
 */
export async function issueTicketQr(
  pool: Pool,
  source: TicketSource,
  opts: { ticketCode: string; partnerId: string | null; key: string; ttlSeconds: number; nowMs: number },
): Promise<Outcome<{ token: string; expiresAt: Date }, 'NOT_FOUND' | 'TICKET_NOT_ACTIVE'>> {
  const notFound = refuse('NOT_FOUND', 'No such ticket');
  if (!(await ensureTicket(pool, source, opts.ticketCode))) return notFound;
  const ticket = await findTicket(
    pool,
    opts.ticketCode,
    opts.partnerId === null ? {} : { partnerId: opts.partnerId },
  );
  if (!ticket) return notFound;
  if (ticket.status !== 'ACTIVE') {
    return refuse('TICKET_NOT_ACTIVE', `The ticket is ${ticket.status}`, { ticket_status: ticket.status });
  }
  const issued = await issueQrToken(pool, opts);
  return { ok: true, token: issued.token, expiresAt: issued.expiresAt };
}
