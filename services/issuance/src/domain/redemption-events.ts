// What redemption tells issuance: an entitlement was redeemed, a ticket was used. Applying one is
// idempotent (JetStream delivers at least once): the UPDATE's WHERE only matches a change not yet made.
// Each is one statement, the update returning the ticket as the partner event shows it. A group of them
// (those that arrived together) is applied in one transaction, with the partner events of every change
// it made.
import {
  appendPartnerEvents,
  type EventData,
  type PartnerEventInput,
  type Pool,
  withTransaction,
} from '@cruise/shared';
import { table } from '../db/tables.ts';
import { ticketPartnerEvents } from './ticket-events.ts';
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

export type RedemptionEvent = EventData<'ticketRedeemed'> | EventData<'ticketUsed'>;

/**
 * Applies redemption's events in one transaction, each ticket's in the order given, and writes the
 * partner events of the changes they made (none for an event already applied) in one outbox write.
 */
export async function applyRedemptionEvents(pool: Pool, list: RedemptionEvent[]): Promise<void> {
  // In ticket-code order (the sort is stable, so one ticket's events keep their order): two instances
  // applying groups that share tickets take the row locks in the same order, and cannot deadlock.
  const ordered = [...list].sort((a, b) =>
    a.ticket_code < b.ticket_code ? -1 : a.ticket_code > b.ticket_code ? 1 : 0,
  );
  return withTransaction(pool, async (client) => {
    const changes: PartnerEventInput[] = [];
    for (const e of ordered) {
      if ('function_code' in e) {
        const { rows } = await client.query<TicketRow>(REDEEM_ENTITLEMENT, [
          e.ticket_code,
          e.function_code,
          new Date(e.redeemed_at).toISOString(),
        ]);
        changes.push(...ticketPartnerEvents('ticket.redeemed', rows, { function_code: e.function_code }));
      } else {
        const redeemed = Object.fromEntries(
          e.entitlements.map((x) => [x.function_code, new Date(x.redeemed_at).toISOString()]),
        );
        const { rows } = await client.query<TicketRow>(MARK_USED, [
          e.ticket_code,
          new Date(e.used_at).toISOString(),
          JSON.stringify(redeemed),
        ]);
        changes.push(...ticketPartnerEvents('ticket.used', rows));
      }
    }
    await appendPartnerEvents(client, 'issuance', changes);
  });
}
