// NATS responder: issuance's current snapshot of one ticket, for redemption when its projection has
// not seen the ticket yet.
import { type Logger, type NatsConnection, type Pool, refuse, respond } from '@cruise/shared';
import { toSnapshot } from '../domain/ticket-records.ts';
import { readTicketRow } from '../domain/tickets.ts';

export function respondTicketSnapshot(nc: NatsConnection, prefix: string, pool: Pool, log: Logger) {
  return respond(
    nc,
    prefix,
    'ticketSnapshot',
    'issuance',
    async ({ ticket_code }) => {
      const row = await readTicketRow(pool, ticket_code);
      return row ? { ok: true as const, ticket: toSnapshot(row) } : refuse('NOT_FOUND', 'No such ticket');
    },
    log,
  );
}
