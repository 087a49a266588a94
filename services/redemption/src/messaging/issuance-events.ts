// Keeps the ticket projection current from issuance's ticket events (durable consumer `redemption`).

import type { TicketSnapshot } from '@cruise/shared';
import { type EventMeta, events } from '@cruise/shared';
import type { RedemptionContext } from '../context.ts';
import { applyGenerated, applySnapshots } from '../domain/projection.ts';

/** The issuance events the projection follows; the others under `events.issuance.>` are skipped. */
export const TICKET_EVENTS = [
  events.ticketsIssued,
  events.ticketsGenerated,
  events.ticketsActivated,
  events.ticketsCancelled,
  events.ticketsExpired,
] as const;

export async function projectTickets(
  data:
    | { tickets: TicketSnapshot[] }
    | { ticket: Omit<TicketSnapshot, 'ticket_code'>; ticket_codes: string[] },
  _meta: EventMeta,
  ctx: RedemptionContext,
): Promise<void> {
  // tickets.generated (a batch chunk): one shared snapshot and the codes it stands for.
  if ('ticket_codes' in data) await applyGenerated(ctx.pool, data.ticket, data.ticket_codes);
  else await applySnapshots(ctx.pool, data.tickets);
}
