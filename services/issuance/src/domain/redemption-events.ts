// What redemption tells issuance: an entitlement was redeemed, a ticket was used. Both handlers are
// idempotent (JetStream delivers at least once): the UPDATE's WHERE only matches a change not yet made.
// Each is one statement, the update returning the ticket as the partner event shows it, and the event in
// the same transaction.
import { type EventData, type Pool, withTransaction } from '@cruise/shared';
import { table } from '../db/tables.ts';
import { appendTicketPartnerEvents } from './ticket-events.ts';
import { TICKET_COLUMNS, TICKET_JOINS, type TicketRow } from './ticket-records.ts';

/** The ticket an UPDATE changed (`RETURNING *`), read as `selectTickets` reads one. */
const changedTicket = (update: string) =>
  `WITH changed AS (${update} RETURNING *) SELECT ${TICKET_COLUMNS} FROM changed t ${TICKET_JOINS}`;

const REDEEM_ENTITLEMENT = changedTicket(
  `UPDATE ${table.tickets} SET revision = revision + 1, entitlements = (
     SELECT jsonb_agg(CASE WHEN x.e->>'function_code' = $2 AND x.e->'redeemed_at' = 'null'::jsonb
                           THEN jsonb_set(x.e, '{redeemed_at}', to_jsonb($3::text)) ELSE x.e END ORDER BY x.ord)
     FROM jsonb_array_elements(entitlements) WITH ORDINALITY AS x(e, ord))
   WHERE ticket_code = $1
     AND entitlements @> jsonb_build_array(jsonb_build_object('function_code', $2::text, 'redeemed_at', null))`,
);

const MARK_USED = changedTicket(
  `UPDATE ${table.tickets} SET status = 'USED', used_at = $2, revision = revision + 1, entitlements = COALESCE((
     SELECT jsonb_agg(CASE WHEN x.e->'redeemed_at' = 'null'::jsonb AND $3::jsonb ? (x.e->>'function_code')
                           THEN jsonb_set(x.e, '{redeemed_at}', $3::jsonb -> (x.e->>'function_code')) ELSE x.e END
                      ORDER BY x.ord)
     FROM jsonb_array_elements(entitlements) WITH ORDINALITY AS x(e, ord)), '[]'::jsonb)
   WHERE ticket_code = $1 AND status = 'ACTIVE'`,
);

export async function applyEntitlementRedeemed(pool: Pool, e: EventData<'ticketRedeemed'>): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<TicketRow>(REDEEM_ENTITLEMENT, [
      e.ticket_code,
      e.function_code,
      new Date(e.redeemed_at).toISOString(),
    ]);
    if (rows.length === 0) return false;
    await appendTicketPartnerEvents(client, 'ticket.redeemed', rows, { function_code: e.function_code });
    return true;
  });
}

export async function applyTicketUsed(pool: Pool, e: EventData<'ticketUsed'>): Promise<boolean> {
  const redeemed = Object.fromEntries(
    e.entitlements.map((x) => [x.function_code, new Date(x.redeemed_at).toISOString()]),
  );
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<TicketRow>(MARK_USED, [
      e.ticket_code,
      new Date(e.used_at).toISOString(),
      JSON.stringify(redeemed),
    ]);
    if (rows.length === 0) return false;
    await appendTicketPartnerEvents(client, 'ticket.used', rows);
    return true;
  });
}
