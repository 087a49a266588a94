// Ticket events into the outbox, split so no single message outgrows NATS's payload limit (1 MB by
// default) whatever the chunk size: at most EVENT_TICKETS_MAX snapshots per event.
import { appendEvent, type PoolClient, type TicketSnapshot } from '@cruise/shared';

export const EVENT_TICKETS_MAX = 500;

export async function appendTicketEvents(
  client: PoolClient,
  name: 'ticketsIssued' | 'ticketsActivated' | 'ticketsCancelled' | 'ticketsExpired',
  tickets: TicketSnapshot[],
): Promise<void> {
  for (let i = 0; i < tickets.length; i += EVENT_TICKETS_MAX) {
    await appendEvent(client, 'issuance', name, { tickets: tickets.slice(i, i + EVENT_TICKETS_MAX) });
  }
}
