// The local projection of issuance's tickets: applied from events (only newer revisions win), filled
// on demand from issuance for a ticket not seen yet, and combined with this service's own redemption
// rows, which are the authority on what was redeemed when.
import type { Pool, Queryable, TicketSnapshot } from '@cruise/shared';
import { table } from '../db/tables.ts';

export type TicketStatus = TicketSnapshot['status'];

export interface ProjectedTicket {
  ticketCode: string;
  partnerId: string | null;
  channel: TicketSnapshot['channel'];
  productId: number;
  productName: string;
  status: TicketStatus;
  functionCodes: string[];
  revision: number;
}

/** Issuance's current snapshot of one ticket, or null when issuance does not know it. */
export type TicketSource = (ticketCode: string) => Promise<TicketSnapshot | null>;

/**
 * Upserts snapshots, each only when its revision is newer than the stored one, so replays and
 * out-of-order deliveries are harmless. A ticket this service marked USED stays USED when a snapshot
 * still says ACTIVE (issuance learns of the redemption later, through our events).
 */
export async function applySnapshots(db: Queryable, snapshots: TicketSnapshot[]): Promise<number> {
  if (snapshots.length === 0) return 0;
  // One row per ticket (the newest), in a fixed order so concurrent upserts lock rows alike.
  const newest = new Map<string, TicketSnapshot>();
  for (const s of snapshots) {
    const seen = newest.get(s.ticket_code);
    if (!seen || seen.revision < s.revision) newest.set(s.ticket_code, s);
  }
  const rows = [...newest.values()]
    .sort((a, b) => (a.ticket_code < b.ticket_code ? -1 : 1))
    .map((s) => ({
      ticket_code: s.ticket_code,
      partner_id: s.partner_id,
      channel: s.channel,
      product_id: s.product_id,
      product_name: s.product_name,
      status: s.status,
      function_codes: s.entitlements.map((e) => e.function_code),
      revision: s.revision,
      created_at: s.created_at,
    }));
  const { rowCount } = await db.query(
    `INSERT INTO ${table.tickets} AS t
       (ticket_code, partner_id, channel, product_id, product_name, status, function_codes, revision, created_at)
     SELECT x.ticket_code, x.partner_id, x.channel, x.product_id, x.product_name, x.status, x.function_codes,
            x.revision, x.created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(ticket_code text, partner_id uuid, channel text, product_id int,
            product_name text, status text, function_codes text[], revision int, created_at timestamptz)
     ${APPLY_IF_NEWER}`,
    [JSON.stringify(rows)],
  );
  return rowCount ?? 0;
}

/** The upsert of applySnapshots and applyGenerated: a snapshot wins only with a higher revision. */
const APPLY_IF_NEWER = `ON CONFLICT (ticket_code) DO UPDATE SET
       partner_id = EXCLUDED.partner_id,
       channel = EXCLUDED.channel,
       product_id = EXCLUDED.product_id,
       product_name = EXCLUDED.product_name,
       status = CASE WHEN t.status = 'USED' AND EXCLUDED.status = 'ACTIVE' THEN 'USED' ELSE EXCLUDED.status END,
       function_codes = EXCLUDED.function_codes,
       revision = EXCLUDED.revision,
       updated_at = now()
     WHERE t.revision < EXCLUDED.revision`;

/**
 * A `tickets.generated` event: the snapshots `{ ticket_code, ...ticket }` for every code, applied
 * exactly as applySnapshots would apply them, without building (and sending) one JSON object per
 * ticket: a batch chunk's codes go in as one text[] beside the fields they share.
 */
export async function applyGenerated(
  db: Queryable,
  ticket: Omit<TicketSnapshot, 'ticket_code'>,
  codes: string[],
): Promise<number> {
  if (codes.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO ${table.tickets} AS t
       (ticket_code, partner_id, channel, product_id, product_name, status, function_codes, revision, created_at)
     SELECT DISTINCT c.code, $2::uuid, $3, $4::int, $5, $6, $7::text[], $8::int, $9::timestamptz
       FROM unnest($1::text[]) AS c(code)
      ORDER BY c.code
     ${APPLY_IF_NEWER}`,
    [
      codes,
      ticket.partner_id,
      ticket.channel,
      ticket.product_id,
      ticket.product_name,
      ticket.status,
      ticket.entitlements.map((e) => e.function_code),
      ticket.revision,
      ticket.created_at,
    ],
  );
  return rowCount ?? 0;
}

const TICKET_COLUMNS = `ticket_code AS "ticketCode", partner_id AS "partnerId", channel,
  product_id AS "productId", product_name AS "productName", status, function_codes AS "functionCodes", revision`;

/**
 * One projected ticket. `partnerId` (when given) restricts it to that partner's tickets in the query
 * itself; `forUpdate` takes the row lock that serialises redemptions of the same ticket.
 */
export async function findTicket(
  db: Queryable,
  ticketCode: string,
  opts: { partnerId?: string; forUpdate?: boolean } = {},
): Promise<ProjectedTicket | null> {
  const values: unknown[] = [ticketCode];
  let where = 'ticket_code = $1';
  if (opts.partnerId !== undefined) {
    values.push(opts.partnerId);
    where += ' AND partner_id = $2';
  }
  const { rows } = await db.query<ProjectedTicket>(
    `SELECT ${TICKET_COLUMNS} FROM ${table.tickets} WHERE ${where}${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    values,
  );
  return rows[0] ?? null;
}

/**
 * Makes sure the projection holds the ticket, asking issuance when it does not (a ticket issued a
 * moment ago, whose event is still on its way), or when it is still PRE_GENERATED here (it may have
 * been activated a moment ago). Returns whether the ticket exists; issuance being unreachable throws
 * SERVICE_UNAVAILABLE from the source.
 */
export async function ensureTicket(pool: Pool, source: TicketSource, ticketCode: string): Promise<boolean> {
  const known = await findTicket(pool, ticketCode);
  if (known && known.status !== 'PRE_GENERATED') return true;
  const snapshot = await source(ticketCode);
  if (!snapshot) return known !== null;
  await applySnapshots(pool, [snapshot]);
  return true;
}

export interface Redeemed {
  functionCode: string;
  redeemedAt: Date;
}

export async function redemptionsOf(db: Queryable, ticketCode: string): Promise<Redeemed[]> {
  const { rows } = await db.query<Redeemed>(
    `SELECT function_code AS "functionCode", redeemed_at AS "redeemedAt"
       FROM ${table.redemptions} WHERE ticket_code = $1`,
    [ticketCode],
  );
  return rows;
}

export interface EntitlementView {
  entitlements: { function_code: string; redeemed_at: string | null }[];
  remaining: string[];
}

/** The ticket's entitlements in order, with this service's redemption times. */
export function entitlementView(ticket: ProjectedTicket, redeemed: Redeemed[]): EntitlementView {
  const at = new Map(redeemed.map((r) => [r.functionCode, r.redeemedAt.toISOString()]));
  const entitlements = ticket.functionCodes.map((fc) => ({
    function_code: fc,
    redeemed_at: at.get(fc) ?? null,
  }));
  return {
    entitlements,
    remaining: entitlements.filter((e) => e.redeemed_at === null).map((e) => e.function_code),
  };
}

/** What the public info page shows for a ticket code; null when no such ticket exists. */
export async function ticketInfo(pool: Pool, source: TicketSource, ticketCode: string) {
  if (!(await ensureTicket(pool, source, ticketCode))) return null;
  const ticket = await findTicket(pool, ticketCode);
  if (!ticket) return null;
  const view = entitlementView(ticket, await redemptionsOf(pool, ticketCode));
  return {
    ticket_code: ticket.ticketCode,
    status: ticket.status,
    product_id: ticket.productId,
    product_name: ticket.productName,
    ...view,
  };
}
