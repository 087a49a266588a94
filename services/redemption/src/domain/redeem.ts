// Redeeming one entitlement of a ticket at the gate. Every scan is decided in one transaction that
// holds the ticket's projection row lock, records the redemption (unique per ticket and function),
// turns the ticket USED with its last entitlement, writes the events to the outbox, records the scan
// and stores the answer under the device's nonce, so a retry gets exactly the same answer.
import { createHash } from 'node:crypto';
import {
  appendEvent,
  ERROR_STATUS,
  type ErrorCode,
  type Pool,
  type PoolClient,
  type Problem,
  type RedeemAccepted,
  stableJson,
  TICKET_CODE_RE,
  toProblem,
  withTransaction,
} from '@cruise/shared';
import {
  type EntitlementView,
  ensureTicket,
  entitlementView,
  findTicket,
  redemptionsOf,
  type TicketSource,
} from './projection.ts';
import { currentQrVersion, type QrClaims, verifyQrToken } from './tokens.ts';

export interface ScanningDevice {
  deviceId: string;
  venue: string;
  /** May staff type a ticket code on this device (the operator's switch; default true)? */
  manualEntry: boolean;
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

/**
 * `row-lock` is the real thing. `unguarded` is the naive read-then-write a first draft would write (no
 * row lock, acceptance decided by what was read): it exists only so the concurrency tests can show
 * the race that the lock closes.
 */
export type RedeemGuard = 'row-lock' | 'unguarded';

export interface RedeemOptions {
  guard?: RedeemGuard;
  /** Test probes: awaited right after the transaction begins and right after the checks pass. */
  probe?: { afterBegin?: () => Promise<void>; afterCheck?: () => Promise<void> };
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

type Decision = Omit<RedeemResult, 'replayed'>;

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
const manualEntryRefused = (input: RedeemInput) => isManualEntry(input) && !input.device.manualEntry;

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

export async function redeem(
  deps: RedeemDeps,
  input: RedeemInput,
  options: RedeemOptions = {},
): Promise<RedeemResult> {
  if (input.qrToken === undefined && input.ticketCode === undefined) {
    throw new TypeError('redeem needs qr_token or ticket_code');
  }
  const guard = options.guard ?? 'row-lock';
  const nowMs = (deps.now ?? Date.now)();
  const hash = input.nonce === undefined ? '' : requestHash(input);

  // A retry of a scan that was already answered needs nothing else, not even issuance.
  if (input.nonce !== undefined) {
    const stored = await storedAnswer(deps.pool, input.device.deviceId, input.nonce);
    if (stored && stored.requestHash === hash) {
      await recordScan(deps.pool, input, stored, null, true);
      return replayOf(stored);
    }
  }

  const scanned = readScan(input, deps.qrSigningKey, nowMs);
  // Outside the transaction: may ask issuance over NATS (SERVICE_UNAVAILABLE when it cannot answer).
  const exists =
    scanned.kind === 'ticket' &&
    !manualEntryRefused(input) &&
    (await ensureTicket(deps.pool, deps.source, scanned.ticketCode));

  return withTransaction(deps.pool, async (client) => {
    if (input.nonce !== undefined) {
      // A concurrent scan with the same nonce waits here until the first one commits, then replays it.
      const claimed = await client.query(
        `INSERT INTO redemption.nonces (device_id, nonce, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [input.device.deviceId, input.nonce, hash],
      );
      if (claimed.rowCount === 0) {
        // Committed rows always carry their answer: it is written in the claiming transaction.
        const stored = (await storedAnswer(client, input.device.deviceId, input.nonce))!;
        const sameScan = stored.requestHash === hash;
        const answer = sameScan
          ? replayOf(stored)
          : {
              ...reject(
                'IDEMPOTENCY_KEY_REUSED',
                'This device already used the nonce for a different scan; use a new nonce',
                input.requestId,
              ),
              replayed: false,
            };
        await recordScan(
          client,
          input,
          answer,
          scanned.kind === 'ticket' ? scanned.ticketCode : null,
          sameScan,
        );
        return answer;
      }
    }
    await options.probe?.afterBegin?.();

    const decision = await decide(client, input, scanned, exists, guard, options.probe?.afterCheck);
    await recordScan(
      client,
      input,
      decision,
      scanned.kind === 'ticket' && exists ? scanned.ticketCode : null,
      false,
    );
    if (input.nonce !== undefined) {
      await client.query(
        'UPDATE redemption.nonces SET status_code = $3, body = $4 WHERE device_id = $1 AND nonce = $2',
        [input.device.deviceId, input.nonce, decision.status, JSON.stringify(decision.body)],
      );
    }
    return { ...decision, replayed: false };
  });
}

async function decide(
  client: PoolClient,
  input: RedeemInput,
  scanned: Scanned,
  exists: boolean,
  guard: RedeemGuard,
  afterCheck: (() => Promise<void>) | undefined,
): Promise<Decision> {
  const rid = input.requestId;
  if (manualEntryRefused(input)) {
    return reject(
      'MANUAL_ENTRY_NOT_ALLOWED',
      'This device does not allow typed ticket codes; scan the QR code',
      rid,
    );
  }
  if (scanned.kind === 'invalid') return reject('INVALID_QR', scanned.detail, rid);
  const ticket = exists
    ? await findTicket(client, scanned.ticketCode, { forUpdate: guard === 'row-lock' })
    : null;
  if (!ticket) return reject('INVALID_QR', 'No ticket has this code', rid);

  const redeemed = await redemptionsOf(client, ticket.ticketCode);
  const view = entitlementView(ticket, redeemed);
  const known = { ticket_code: ticket.ticketCode, ticket_status: ticket.status, remaining: view.remaining };

  if (scanned.expired) return reject('QR_EXPIRED', 'The QR code has expired; show a fresh one', rid, known);
  if (scanned.token) {
    const current = await currentQrVersion(client, ticket.ticketCode);
    if (scanned.token.version < current) {
      return reject(
        'QR_SUPERSEDED',
        'A newer QR code was issued for this ticket; show the newest',
        rid,
        known,
      );
    }
    if (scanned.token.version > current) return reject('INVALID_QR', 'The QR code was not issued here', rid);
  }
  const prior = redeemed.find((r) => r.functionCode === input.functionCode);
  // USED here means every entitlement carries a local redemption; a USED from issuance without one is
  // still not redeemable.
  if (ticket.status !== 'ACTIVE' && !(ticket.status === 'USED' && prior)) {
    return reject('TICKET_NOT_ACTIVE', `The ticket is ${ticket.status}`, rid, known);
  }
  if (!ticket.functionCodes.includes(input.functionCode)) {
    return reject('ENTITLEMENT_NOT_FOUND', `The ticket does not include ${input.functionCode}`, rid, known);
  }
  if (prior) return alreadyRedeemed(input, prior.redeemedAt, rid, known);
  await afterCheck?.();

  const inserted = await client.query<{ redeemed_at: Date }>(
    `INSERT INTO redemption.redemptions (ticket_code, function_code, redeemed_at, device_id, session_code, nonce)
     VALUES ($1, $2, now(), $3, $4, $5)
     ON CONFLICT (ticket_code, function_code) DO NOTHING
     RETURNING redeemed_at`,
    [
      ticket.ticketCode,
      input.functionCode,
      input.device.deviceId,
      input.sessionCode ?? null,
      input.nonce ?? null,
    ],
  );
  let redeemedAt = inserted.rows[0]?.redeemed_at;
  if (!redeemedAt) {
    if (guard === 'row-lock') {
      // Unreachable while the row lock is held; the unique constraint is the backstop.
      const first = (await redemptionsOf(client, ticket.ticketCode)).find(
        (r) => r.functionCode === input.functionCode,
      )!;
      return alreadyRedeemed(input, first.redeemedAt, rid, known);
    }
    // The naive version trusts what it read a moment ago and lets the passenger through.
    redeemedAt = new Date();
  }

  const remaining = view.remaining.filter((fc) => fc !== input.functionCode);
  const used = remaining.length === 0;
  const redeemedAtIso = redeemedAt.toISOString();
  if (used) {
    await client.query(
      `UPDATE redemption.tickets SET status = 'USED', updated_at = now() WHERE ticket_code = $1`,
      [ticket.ticketCode],
    );
  }
  await appendEvent(client, 'redemption', 'ticketRedeemed', {
    ticket_code: ticket.ticketCode,
    function_code: input.functionCode,
    redeemed_at: redeemedAtIso,
  });
  if (used) {
    await appendEvent(client, 'redemption', 'ticketUsed', {
      ticket_code: ticket.ticketCode,
      used_at: redeemedAtIso,
      entitlements: view.entitlements.map((e) => ({
        function_code: e.function_code,
        redeemed_at: e.redeemed_at ?? redeemedAtIso,
      })),
    });
  }
  const body: RedeemAccepted = {
    result: 'ACCEPTED',
    ticket_code: ticket.ticketCode,
    function_code: input.functionCode,
    ticket_status: used ? 'USED' : 'ACTIVE',
    remaining,
    redeemed_at: redeemedAtIso,
  };
  return { status: 200, body, outcome: 'ACCEPTED', emitted: true };
}

function reject(
  code: ErrorCode,
  detail: string,
  requestId: string | undefined,
  extensions: Record<string, unknown> = {},
): Decision {
  return {
    status: ERROR_STATUS[code],
    body: toProblem(code, detail, requestId, { result: 'REJECTED', ...extensions }),
    outcome: code,
    emitted: false,
  };
}

function alreadyRedeemed(
  input: RedeemInput,
  redeemedAt: Date,
  requestId: string | undefined,
  known: { ticket_code: string; ticket_status: string; remaining: EntitlementView['remaining'] },
): Decision {
  return reject(
    'ALREADY_REDEEMED',
    `${input.functionCode} was already redeemed at ${redeemedAt.toISOString()}`,
    requestId,
    { ...known, function_code: input.functionCode, redeemed_at: redeemedAt.toISOString() },
  );
}

function replayOf(stored: StoredAnswer): RedeemResult {
  return {
    status: stored.status,
    body: stored.body,
    outcome: stored.outcome,
    replayed: true,
    emitted: false,
  };
}

interface StoredAnswer {
  requestHash: string;
  status: number;
  body: RedeemAccepted | Problem;
  outcome: RedeemOutcome;
}

async function storedAnswer(
  db: Pool | PoolClient,
  deviceId: string,
  nonce: string,
): Promise<StoredAnswer | null> {
  const { rows } = await db.query<{
    request_hash: string;
    status_code: number | null;
    body: StoredAnswer['body'];
  }>('SELECT request_hash, status_code, body FROM redemption.nonces WHERE device_id = $1 AND nonce = $2', [
    deviceId,
    nonce,
  ]);
  const row = rows[0];
  if (!row || row.status_code === null) return null;
  const outcome = 'code' in row.body ? row.body.code : 'ACCEPTED';
  return { requestHash: row.request_hash, status: row.status_code, body: row.body, outcome };
}

async function recordScan(
  db: Pool | PoolClient,
  input: RedeemInput,
  answer: { status: number; outcome: RedeemOutcome; body: RedeemAccepted | Problem },
  ticketCode: string | null,
  replayed: boolean,
): Promise<void> {
  const code = ticketCode ?? ('ticket_code' in answer.body ? (answer.body.ticket_code as string) : null);
  await db.query(
    `INSERT INTO redemption.scans
       (device_id, venue, session_code, outcome, http_status, ticket_code, function_code, nonce, replayed,
        manual_entry)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      input.device.deviceId,
      input.device.venue,
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
    'DELETE FROM redemption.nonces WHERE created_at < now() - make_interval(days => $1)',
    [olderThanDays],
  );
  return rowCount ?? 0;
}
