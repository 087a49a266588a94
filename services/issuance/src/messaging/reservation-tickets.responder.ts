// NATS responder: the tickets of one of a partner's reservations, which inventory shows on a confirmed
// reservation (inventory owns reservations, issuance owns their tickets).
import { type Logger, type NatsConnection, type Pool, respond } from '@cruise/shared';
import { ticketsOfReservation } from '../domain/tickets.ts';

export function respondReservationTickets(nc: NatsConnection, prefix: string, pool: Pool, log: Logger) {
  return respond(
    nc,
    prefix,
    'reservationTickets',
    'issuance',
    async ({ partner_id, reservation_id }) => ({
      ok: true as const,
      tickets: await ticketsOfReservation(pool, partner_id, reservation_id),
    }),
    log,
  );
}
