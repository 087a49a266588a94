// The commands issuance answers (queue group `issuance`): redemption's ticket snapshot, and the OCTO
// adapter's booking commands. Thin adapters over the domain. Inventory never asks issuance anything.
import { type ManifestResponder, refuse, responder } from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { cancelReservationTickets, confirmOnAccount } from '../domain/on-account-sales.ts';
import { toSnapshot } from '../domain/ticket-records.ts';
import { readTicketRow, ticketsOfReservation } from '../domain/tickets.ts';

export const issuanceResponders: ManifestResponder<IssuanceContext>[] = [
  // Issuance's current view of one ticket, for redemption when its projection has not seen it yet.
  responder('ticketSnapshot', async ({ ticket_code }, ctx) => {
    const row = await readTicketRow(ctx.pool, ticket_code);
    return row ? { ok: true as const, ticket: toSnapshot(row) } : refuse('NOT_FOUND', 'No such ticket');
  }),
  // The OCTO adapter: a booking's tickets, its on-account confirm, the cancel of a confirmed one.
  responder('reservationTickets', async ({ partner_id, reservation_id }, ctx) => ({
    ok: true as const,
    tickets: await ticketsOfReservation(ctx.pool, partner_id, reservation_id),
  })),
  responder('confirmOnAccount', async ({ partner_id, reservation_id }, ctx) => {
    const outcome = await confirmOnAccount(ctx.pool, ctx.inventory, {
      partnerId: partner_id,
      reservationId: reservation_id,
    });
    ctx.eventsWritten();
    // On-account confirms count as payments (`on_account`) and their tickets as issued (channel ota).
    if (!outcome.ok) {
      ctx.metrics.payments.inc({ outcome: outcome.code.toLowerCase() });
      return outcome;
    }
    const { issued, ...reply } = outcome;
    if (issued) {
      ctx.metrics.payments.inc({ outcome: 'on_account' });
      ctx.metrics.ticketsIssued.inc({ channel: 'ota' }, reply.tickets.length);
    } else ctx.metrics.payments.inc({ outcome: 'replayed' });
    return reply;
  }),
  responder('cancelReservationTickets', async ({ partner_id, reservation_id }, ctx) => {
    const outcome = await cancelReservationTickets(ctx.pool, ctx.inventory, ctx.log, {
      partnerId: partner_id,
      reservationId: reservation_id,
    });
    ctx.eventsWritten();
    return outcome;
  }),
];
