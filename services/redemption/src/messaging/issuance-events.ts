// Keeps the ticket projection current from issuance's ticket events (durable consumer `redemption`).

import type { TicketSnapshot } from '@cruise/shared';
import { type EventMeta, events } from '@cruise/shared';
import type { RedemptionContext } from '../context.ts';
import { applySnapshots } from '../domain/projection.ts';

/** The issuance events the projection follows; the others under `events.issuance.>` are skipped. */
export const TICKET_EVENTS = [
  events.ticketsIssued,
  events.ticketsActivated,
  events.ticketsCancelled,
  events.ticketsExpired,
] as const;

export async function projectTickets(
  data: { tickets: TicketSnapshot[] },
  _meta: EventMeta,
  ctx: RedemptionContext,
): Promise<void> {
  await applySnapshots(ctx.pool, data.tickets);
}
