// What redemption tells issuance: an entitlement was redeemed, a ticket was used. Both handlers are
// idempotent (JetStream delivers at least once): the UPDATE's WHERE only matches a change not yet made.
import { type EventData, type Pool, withTransaction } from '@cruise/shared';
import { table } from '../db/tables.ts';
import { appendTicketPartnerEvents } from './ticket-events.ts';
import { readTicketRow } from './tickets.ts';

export async function applyEntitlementRedeemed(pool: Pool, e: EventData<'ticketRedeemed'>): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${table.tickets} SET revision = revision + 1, entitlements = (
       SELECT jsonb_agg(CASE WHEN x.e->>'function_code' = $2 AND x.e->'redeemed_at' = 'null'::jsonb
                             THEN jsonb_set(x.e, '{redeemed_at}', to_jsonb($3::text)) ELSE x.e END ORDER BY x.ord)
       FROM jsonb_array_elements(entitlements) WITH ORDINALITY AS x(e, ord))
     WHERE ticket_code = $1
       AND entitlements @> jsonb_build_array(jsonb_build_object('function_code', $2::text, 'redeemed_at', null))`,
      [e.ticket_code, e.function_code, new Date(e.redeemed_at).toISOString()],
    );
    if (!rowCount) return false;
    const row = (await readTicketRow(client, e.ticket_code))!;
    await appendTicketPartnerEvents(client, 'ticket.redeemed', [row], { function_code: e.function_code });
    return true;
  });
}

export async function applyTicketUsed(pool: Pool, e: EventData<'ticketUsed'>): Promise<boolean> {
  const redeemed = Object.fromEntries(
    e.entitlements.map((x) => [x.function_code, new Date(x.redeemed_at).toISOString()]),
  );
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${table.tickets} SET status = 'USED', used_at = $2, revision = revision + 1, entitlements = COALESCE((
       SELECT jsonb_agg(CASE WHEN x.e->'redeemed_at' = 'null'::jsonb AND $3::jsonb ? (x.e->>'function_code')
                             THEN jsonb_set(x.e, '{redeemed_at}', $3::jsonb -> (x.e->>'function_code')) ELSE x.e END
                        ORDER BY x.ord)
       FROM jsonb_array_elements(entitlements) WITH ORDINALITY AS x(e, ord)), '[]'::jsonb)
     WHERE ticket_code = $1 AND status = 'ACTIVE'`,
      [e.ticket_code, new Date(e.used_at).toISOString(), JSON.stringify(redeemed)],
    );
    if (!rowCount) return false;
    const row = (await readTicketRow(client, e.ticket_code))!;
    await appendTicketPartnerEvents(client, 'ticket.used', [row]);
    return true;
  });
}
