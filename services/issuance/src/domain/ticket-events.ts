// Ticket events into the outbox, split so no single message outgrows NATS's payload limit (1 MB by
// default) whatever the chunk size: at most EVENT_TICKETS_MAX snapshots per event.
import {
  appendEvent,
  appendPartnerEvents,
  type PartnerEventInput,
  type PoolClient,
  type TicketSnapshot,
} from '@cruise/shared';
import { type TicketRow, toTicket } from './ticket-records.ts';

export const EVENT_TICKETS_MAX = 500;

/** Most codes in one compact `tickets.generated` event (a batch chunk's): ~27 bytes each, ~270 kB. */
export const GENERATED_CODES_MAX = 10_000;

export async function appendTicketEvents(
  client: PoolClient,
  name: 'ticketsIssued' | 'ticketsActivated' | 'ticketsCancelled' | 'ticketsExpired',
  tickets: TicketSnapshot[],
): Promise<void> {
  for (let i = 0; i < tickets.length; i += EVENT_TICKETS_MAX) {
    await appendEvent(client, 'issuance', name, { tickets: tickets.slice(i, i + EVENT_TICKETS_MAX) });
  }
}

type TicketEventType =
  | 'ticket.activated'
  | 'ticket.redeemed'
  | 'ticket.used'
  | 'ticket.cancelled'
  | 'ticket.expired';

/** The partner events of ticket changes (direct-sale tickets have no partner and are left out). */
export function ticketPartnerEvents(
  type: TicketEventType,
  rows: TicketRow[],
  extra: Record<string, unknown> = {},
): PartnerEventInput[] {
  return rows
    .filter((r) => r.partnerId !== null)
    .map((r) => ({
      type,
      partnerId: r.partnerId!,
      data: { ticket: toTicket(r), ...extra },
      revision: r.revision,
    }));
}

/** Writes the partner events of ticket changes (`ticketPartnerEvents`) to the outbox. */
export async function appendTicketPartnerEvents(
  client: PoolClient,
  type: TicketEventType,
  rows: TicketRow[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  await appendPartnerEvents(client, 'issuance', ticketPartnerEvents(type, rows, extra));
}
