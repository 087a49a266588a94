// A partner's tickets: the filtered list, one ticket, activation of a pre-generated ticket, and cancel.
// Every query carries `partner_id = $caller`, so another partner's ticket is simply not found.
import {
  type ActivateTicketBody,
  type CommandClient,
  filterInstant,
  type KeyedRow,
  Keyset,
  type ListPage,
  type Outcome,
  type PageRequest,
  type PoolClient,
  refuse,
  type Ticket,
  type TicketListQuery,
} from '@cruise/shared';
import { and, eq } from 'drizzle-orm';
import { tickets } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import { type ReleaseRequest, recordRelease } from './pool-releases.ts';
import { appendTicketEvents, appendTicketPartnerEvents } from './ticket-events.ts';
import {
  type Queryable,
  selectTickets,
  TICKET_COLUMNS,
  TICKET_JOINS,
  type TicketRow,
  toSnapshot,
  toTicket,
} from './ticket-records.ts';

/** Above this many matches the list reports a lower bound instead of counting every row. */
export const TOTAL_COUNT_CAP = 10_000;

/** Newest first: creation time, then insertion order (many tickets of a chunk share one created_at). */
export const TICKETS_NEWEST_FIRST = new Keyset('tickets', [
  { sql: 't.created_at', type: 'timestamptz' },
  { sql: 't.id', type: 'bigint' },
]);
/**
 * Within one batch "newest first" is the highest sequence first (chunks are written in sequence order),
 * which the (batch_id, batch_seq) key serves, read backwards, without sorting a million-ticket batch.
 */
export const TICKETS_OF_BATCH = new Keyset('batch-tickets', [{ sql: 't.batch_seq', type: 'integer' }], {
  nullsLast: false,
});

export const ticketListOrder = (q: Pick<TicketListQuery, 'batch_id'>) =>
  q.batch_id ? TICKETS_OF_BATCH : TICKETS_NEWEST_FIRST;

/**
 * The list's one statement (page and capped total from one snapshot: as two statements, a ticket
 * turning USED between them answered total 1 with an empty page). Exported so the index test EXPLAINs
 * exactly what the route runs.
 */
export function ticketListSql(partnerId: string, q: TicketListQuery, request: PageRequest) {
  const { where, values, bind } = ticketListFilter(partnerId, q);
  const text = ticketListOrder(q).listSql(
    {
      from: table.tickets,
      alias: 't',
      where,
      select: TICKET_COLUMNS,
      joins: TICKET_JOINS,
      countCap: TOTAL_COUNT_CAP,
    },
    request,
    bind,
  );
  return { text, values };
}

/** The filter of a list query (`t` = tickets), its parameters, and `bind` to add more. */
export function ticketListFilter(partnerId: string, q: TicketListQuery) {
  const values: unknown[] = [partnerId];
  const bind = (value: unknown) => `$${values.push(value)}`;
  const where = ['t.partner_id = $1'];
  if (q.status) where.push(`t.status = ${bind(q.status)}`);
  if (q.batch_id) where.push(`t.batch_id = ${bind(q.batch_id)}`);
  if (q.reservation_id) where.push(`t.reservation_id = ${bind(q.reservation_id)}`);
  if (q.reseller_id) where.push(`t.reseller_id = ${bind(q.reseller_id)}`);
  if (q.product_id) where.push(`t.product_id = ${bind(q.product_id)}`);
  if (q.created_from) where.push(`t.created_at >= ${bind(filterInstant(q.created_from).toISOString())}`);
  if (q.created_to) where.push(`t.created_at < ${bind(filterInstant(q.created_to).toISOString())}`);
  return { where: where.join(' AND '), values, bind };
}

export type TicketPage = ListPage<Ticket> & { total_is_lower_bound: boolean };

export async function listTickets(
  client: Queryable,
  partnerId: string,
  q: TicketListQuery,
): Promise<Outcome<{ page: TicketPage }, 'VALIDATION_FAILED'>> {
  const order = ticketListOrder(q);
  const resolved = order.request(q);
  if (!resolved.ok) return resolved;
  const { request } = resolved;
  const result = await client.query<TicketRow & KeyedRow & { total: number }>(
    ticketListSql(partnerId, q, request),
  );
  const { total: counted, rows } = Keyset.split(result.rows);
  const capped = counted > TOTAL_COUNT_CAP;
  // Past the cap, the exact count is only known to be at least what this walk has seen exists.
  const total = capped ? Math.max(TOTAL_COUNT_CAP, request.position + rows.length) : counted;
  return {
    ok: true,
    page: { ...order.page(request, rows, total, toTicket), total_is_lower_bound: capped },
  };
}

const noSuchTicket = () => refuse('NOT_FOUND', 'No such ticket');

async function lockTicket(client: PoolClient, partnerId: string, code: string): Promise<TicketRow | null> {
  // SQL: drizzle renders `FOR UPDATE OF` with the schema-qualified name, which PostgreSQL refuses.
  const { rows } = await client.query<TicketRow>(
    `SELECT ${TICKET_COLUMNS} FROM ${table.tickets} t ${TICKET_JOINS}
     WHERE t.ticket_code = $1 AND t.partner_id = $2 FOR UPDATE OF t`,
    [code, partnerId],
  );
  return rows[0] ?? null;
}

export async function readTicketRow(client: Queryable, code: string, partnerId?: string) {
  const [row] = await selectTickets(client).where(
    and(eq(tickets.ticketCode, code), partnerId ? eq(tickets.partnerId, partnerId) : undefined),
  );
  return row ?? null;
}

/** A reservation's tickets in unit order (at most 100: a reservation holds 1..100 units). */
export async function ticketsOfReservation(client: Queryable, partnerId: string, reservationId: string) {
  const rows = await selectTickets(client)
    .where(and(eq(tickets.partnerId, partnerId), eq(tickets.reservationId, reservationId)))
    .orderBy(tickets.createdAt, tickets.ticketCode);
  return rows.map(toTicket);
}

export async function getTicket(
  client: Queryable,
  partnerId: string,
  code: string,
): Promise<Outcome<{ ticket: Ticket }>> {
  const row = await readTicketRow(client, code, partnerId);
  return row ? { ok: true, ticket: toTicket(row) } : noSuchTicket();
}

/** The partner's own reseller (any status), or null: another partner's reseller is simply not found. */
export async function ownReseller(
  client: Queryable,
  partnerId: string,
  resellerId: string,
): Promise<{ name: string; status: string } | null> {
  const { rows } = await client.query<{ name: string; status: string }>(
    `SELECT name, status FROM ${table.resellers} WHERE reseller_id = $1 AND partner_id = $2`,
    [resellerId, partnerId],
  );
  return rows[0] ?? null;
}

/** The caller's own ACTIVE reseller, or why not: another partner's is simply not found. */
export async function ownActiveReseller(
  client: Queryable,
  partnerId: string,
  resellerId: string,
): Promise<Outcome<{ name: string }, 'NOT_FOUND' | 'VALIDATION_FAILED'>> {
  const r = await ownReseller(client, partnerId, resellerId);
  if (!r) {
    return refuse('NOT_FOUND', 'No such reseller', {
      errors: [{ path: 'reseller_id', message: 'unknown reseller' }],
    });
  }
  if (r.status !== 'ACTIVE') {
    return refuse('VALIDATION_FAILED', 'The reseller is INACTIVE', {
      errors: [{ path: 'reseller_id', message: 'reseller is INACTIVE' }],
    });
  }
  return { ok: true, name: r.name };
}

/**
 * PRE_GENERATED → ACTIVE: the unit moves from held to sold in the reseller pool at today's price for
 * the customer type (inventory's sellHeld, idempotent by the ticket code), and the ticket records
 * who sold it to whom. Runs inside the caller's transaction (the Idempotency-Key one).
 */
export async function activateTicket(
  client: PoolClient,
  inventory: CommandClient,
  partnerId: string,
  code: string,
  body: ActivateTicketBody,
  venueToday: string,
): Promise<Outcome<{ ticket: Ticket }>> {
  const row = await lockTicket(client, partnerId, code);
  if (!row) return noSuchTicket();
  if (row.status !== 'PRE_GENERATED') {
    return refuse(
      'TICKET_NOT_ACTIVE',
      `The ticket is ${row.status}; only a PRE_GENERATED ticket can be activated`,
      { ticket_status: row.status },
    );
  }
  if (body.reseller_id) {
    const reseller = await ownActiveReseller(client, partnerId, body.reseller_id);
    if (!reseller.ok) return reseller;
  }
  const reply = await inventory.send('sellHeld', {
    ref: `activate:${code}`,
    partner_id: partnerId,
    product_id: row.productId,
    channel: 'reseller',
    customer_type: body.customer_type,
    date: venueToday,
  });
  if (!reply.ok) return reply;
  await client.query(
    `UPDATE ${table.tickets} SET status = 'ACTIVE', activated_at = now(), customer_type = $2, price_amount = $3,
       price_currency = $4, customer_name = $5, customer_email = $6, order_reference = $7,
       reseller_id = COALESCE($8, reseller_id), revision = revision + 1
     WHERE ticket_code = $1`,
    [
      code,
      body.customer_type,
      reply.unit_price.amount,
      reply.unit_price.currency,
      body.customer.name,
      body.customer.email ?? null,
      body.order_reference ?? null,
      body.reseller_id ?? null,
    ],
  );
  const updated = (await readTicketRow(client, code, partnerId))!;
  await appendTicketEvents(client, 'ticketsActivated', [toSnapshot(updated)]);
  await appendTicketPartnerEvents(client, 'ticket.activated', [updated]);
  return { ok: true, ticket: toTicket(updated) };
}

/**
 * → CANCELLED, and the unit goes back to its pool: a PRE_GENERATED ticket's from held in the reseller
 * pool, an ACTIVE one's from sold in its channel's pool. The release is recorded in the same
 * transaction and sent afterwards (see pool-releases.ts); returns the release to send.
 */
export async function cancelTicket(
  client: PoolClient,
  partnerId: string,
  code: string,
): Promise<Outcome<{ ticket: Ticket; release: ReleaseRequest }>> {
  const row = await lockTicket(client, partnerId, code);
  if (!row) return noSuchTicket();
  const redeemed = row.entitlements.some((e) => e.redeemed_at !== null);
  if (!(row.status === 'PRE_GENERATED' || (row.status === 'ACTIVE' && !redeemed))) {
    return refuse(
      'TICKET_NOT_CANCELLABLE',
      row.status === 'ACTIVE'
        ? 'The ticket has redeemed entitlements and cannot be cancelled'
        : `The ticket is ${row.status}; only PRE_GENERATED or unredeemed ACTIVE tickets can be cancelled`,
      { ticket_status: row.status },
    );
  }
  const release: ReleaseRequest = {
    ref: `cancel:${code}`,
    partnerId: row.partnerId,
    productId: row.productId,
    channel: row.status === 'PRE_GENERATED' ? 'reseller' : row.channel,
    from: row.status === 'PRE_GENERATED' ? 'held' : 'sold',
    quantity: 1,
    reason: 'cancel',
  };
  await client.query(
    `UPDATE ${table.tickets} SET status = 'CANCELLED', cancelled_at = now(), revision = revision + 1
     WHERE ticket_code = $1`,
    [code],
  );
  await recordRelease(client, release);
  const updated = (await readTicketRow(client, code, partnerId))!;
  await appendTicketEvents(client, 'ticketsCancelled', [toSnapshot(updated)]);
  await appendTicketPartnerEvents(client, 'ticket.cancelled', [updated]);
  return { ok: true, ticket: toTicket(updated), release };
}
