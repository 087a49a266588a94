// Redeeming one entitlement of a ticket at the gate. Every scan is decided in one statement, a
// database function run in its own transaction (drizzle/0004_redeem_function.sql): it holds the
// ticket's projection row lock, records the redemption (unique per ticket and function), turns the
// ticket USED with its last entitlement, writes the events to the outbox, records the scan and stores
// the answer under the device's nonce, so a retry gets exactly the same answer.
import { createHash } from 'node:crypto';
import {
  ERROR_STATUS,
  type ErrorCode,
  events,
  type Pool,
  type Problem,
  type RedeemAccepted,
  stableJson,
  TICKET_CODE_RE,
  toProblem,
} from '@cruise/shared';
import { REDEEM_SCAN_FN, table } from '../db/tables.ts';
import { ensureTicket, type TicketSource } from './projection.ts';
import { type QrClaims, verifyQrToken } from './tokens.ts';

/**
 * The device a valid key belongs to. Whether it may still scan (revocation), its venue and its
 * manual-entry switch are read by redeem_scan itself, in the scan's statement.
 */
export interface ScanningDevice {
  deviceId: string;
}

export interface RedeemInput {
  device: ScanningDevice;
  qrToken?: string | undefined;
  ticketCode?: string | undefined;
  functionCode: string;
  sessionCode?: string | undefined;
  nonce?: string | undefined;
  /** Put into a rejection's problem document (and kept with it for nonce replays). */
  requestId?: string | undefined;
}

export interface RedeemDeps {
  pool: Pool;
  source: TicketSource;
  qrSigningKey: string;
  now?: () => number;
}

export type RedeemOutcome = 'ACCEPTED' | ErrorCode;

export interface RedeemResult {
  status: number;
  body: RedeemAccepted | Problem;
  outcome: RedeemOutcome;
  /** True when this is the stored answer of an earlier scan with the same nonce. */
  replayed: boolean;
  /** True when events were written to the outbox (the caller may kick the relay). */
  emitted: boolean;
}

/** What was scanned, before looking anything up: a trusted ticket code, or an early refusal. */
type Scanned =
  | { kind: 'invalid'; detail: string }
  | { kind: 'ticket'; ticketCode: string; token: QrClaims | null; expired: boolean };

/**
 * A code typed in by gate staff, read the forgiving Crockford way: case, spaces and hyphens ignored,
 * O read as 0, I and L as 1. Applied only when the result has the shape of a ticket code.
 */
export function normalizeTypedCode(typed: string): string {
  const code = typed.replace(/[\s-]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  return TICKET_CODE_RE.test(code) ? code : typed;
}

/** A typed ticket code without a QR token is manual entry: it skips the QR clock. */
const isManualEntry = (input: RedeemInput) => input.qrToken === undefined;

function readScan(input: RedeemInput, key: string, nowMs: number): Scanned {
  if (input.qrToken === undefined) {
    return { kind: 'ticket', ticketCode: normalizeTypedCode(input.ticketCode!), token: null, expired: false };
  }
  const check = verifyQrToken(key, input.qrToken, nowMs);
  if (!check.ok && check.code === 'INVALID_QR') return { kind: 'invalid', detail: check.detail };
  const claims = check.claims;
  if (input.ticketCode !== undefined && normalizeTypedCode(input.ticketCode) !== claims.ticketCode) {
    return { kind: 'invalid', detail: 'ticket_code does not match the QR code' };
  }
  return { kind: 'ticket', ticketCode: claims.ticketCode, token: claims, expired: !check.ok };
}

function requestHash(input: RedeemInput): string {
  return createHash('sha256')
    .update(
      stableJson({
        qr_token: input.qrToken,
        ticket_code: input.ticketCode,
        function_code: input.functionCode,
        session_code: input.sessionCode,
      }),
    )
    .digest('hex');
}

/** The codes a scan can be refused with: their problem type, title and status, from the contract. */
const SCAN_REJECTIONS: ErrorCode[] = [
  'MANUAL_ENTRY_NOT_ALLOWED',
  'INVALID_QR',
  'QR_EXPIRED',
  'QR_SUPERSEDED',
  'TICKET_NOT_ACTIVE',
  'ENTITLEMENT_NOT_FOUND',
  'ALREADY_REDEEMED',
  'IDEMPOTENCY_KEY_REUSED',
];
const PROBLEMS = JSON.stringify(
  Object.fromEntries(
    SCAN_REJECTIONS.map((code) => {
      const { type, title, status } = toProblem(code);
      return [code, { type, title, status }];
    }),
  ),
);
/** The outbox events a scan writes, enveloped by the database as appendEvent does. */
const EVENTS = JSON.stringify(
  Object.fromEntries(
    (['ticketRedeemed', 'ticketUsed'] as const).map((name) => {
      const { subject } = events[name];
      return [name, { subject, type: subject.split('.').slice(2).join('.') }];
    }),
  ),
);

/**
 * Decides a scan in one statement (`redemption.redeem_scan`, migrations 0004 and 0006): the device's
 * standing (revoked, manual entry), the ticket's row lock, every check, the nonce's claim with its
 * answer, the redemption row, the USED transition, the outbox events and the scan record commit
 * together. Issuance is asked (over NATS, outside any transaction) only when the projection lacks the
 * ticket or has it PRE_GENERATED; the function then runs a second time with the answer. A device
 * revoked since its key was last seen gets outcome UNAUTHORIZED (401) and nothing is written.
 */
export async function redeem(deps: RedeemDeps, input: RedeemInput): Promise<RedeemResult> {
  if (input.qrToken === undefined && input.ticketCode === undefined) {
    throw new TypeError('redeem needs qr_token or ticket_code');
  }
  const nowMs = (deps.now ?? Date.now)();
  const hash = input.nonce === undefined ? '' : requestHash(input);
  const scanned = readScan(input, deps.qrSigningKey, nowMs);
  const ticketCode = scanned.kind === 'ticket' ? scanned.ticketCode : null;
  const decide = (known: boolean | null) =>
    deps.pool.query<{ answer: DbAnswer }>({
      // Prepared once per connection: a scan costs the server no parsing or planning of its own.
      name: 'redeem_scan',
      text: REDEEM_SCAN_SQL,
      values: [
        input.device.deviceId,
        input.sessionCode ?? null,
        input.nonce ?? null,
        hash,
        isManualEntry(input),
        scanned.kind === 'invalid' ? scanned.detail : null,
        ticketCode,
        scanned.kind === 'ticket' && scanned.token ? scanned.token.version : null,
        scanned.kind === 'ticket' && scanned.expired,
        input.functionCode,
        input.requestId ?? null,
        known,
        PROBLEMS,
        EVENTS,
      ],
    });
  let answer = (await decide(null)).rows[0]!.answer;
  if ('need_ticket' in answer) {
    // A ticket issued a moment ago (its event still on its way) or activated a moment ago: ask issuance
    // (SERVICE_UNAVAILABLE when it cannot answer), then decide with what it said.
    const exists = await ensureTicket(deps.pool, deps.source, ticketCode!);
    answer = (await decide(exists)).rows[0]!.answer;
    if ('need_ticket' in answer) throw new Error('redeem_scan asked for the ticket twice');
  }
  if ('unauthorized' in answer) {
    return {
      status: ERROR_STATUS.UNAUTHORIZED,
      body: toProblem('UNAUTHORIZED', DEVICE_REFUSED, input.requestId),
      outcome: 'UNAUTHORIZED',
      replayed: false,
      emitted: false,
    };
  }
  return answer;
}

/** The answer to a missing, unknown or revoked device key. */
export const DEVICE_REFUSED = 'A valid device key is required (Authorization: Bearer)';

const REDEEM_SCAN_SQL = `SELECT ${REDEEM_SCAN_FN}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS answer`;

type DbAnswer = RedeemResult | { need_ticket: true } | { unauthorized: true };

async function recordScan(
  db: Pool,
  input: RedeemInput,
  answer: { status: number; outcome: RedeemOutcome; body: RedeemAccepted | Problem },
  ticketCode: string | null,
  replayed: boolean,
): Promise<void> {
  const code = ticketCode ?? ('ticket_code' in answer.body ? (answer.body.ticket_code as string) : null);
  await db.query(
    `INSERT INTO ${table.scans}
       (device_id, venue, session_code, outcome, http_status, ticket_code, function_code, nonce, replayed,
        manual_entry)
     SELECT device_id, venue, $2, $3, $4, $5, $6, $7, $8, $9 FROM ${table.devices} WHERE device_id = $1`,
    [
      input.device.deviceId,
      input.sessionCode ?? null,
      answer.outcome,
      answer.status,
      code,
      input.functionCode,
      input.nonce ?? null,
      replayed,
      isManualEntry(input),
    ],
  );
}

/** Records a scan that could not be decided (issuance unreachable), so no scan goes unrecorded. */
export async function recordUndecidedScan(pool: Pool, input: RedeemInput, code: ErrorCode): Promise<void> {
  await recordScan(
    pool,
    input,
    { status: ERROR_STATUS[code], outcome: code, body: toProblem(code) },
    input.ticketCode ?? null,
    false,
  );
}

/**
 * Forgets nonces older than the retention: a scanner retries within seconds or minutes, never days.
 * The scans table keeps the history.
 */
export async function purgeNonces(pool: Pool, olderThanDays = 7): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM ${table.nonces} WHERE created_at < now() - make_interval(days => $1)`,
    [olderThanDays],
  );
  return rowCount ?? 0;
}
