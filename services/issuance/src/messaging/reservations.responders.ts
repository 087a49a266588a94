// NATS responders for inventory's reservations (inventory owns reservations, issuance their tickets and
// the partners' resellers): the tickets of a confirmed reservation, and whether a named reseller is the
// partner's own.
import { type Logger, type NatsConnection, type Pool, respond } from '@cruise/shared';
import { ownActiveReseller, ticketsOfReservation } from '../domain/tickets.ts';

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

export function respondCheckReseller(nc: NatsConnection, prefix: string, pool: Pool, log: Logger) {
  return respond(
    nc,
    prefix,
    'checkReseller',
    'issuance',
    async ({ partner_id, reseller_id }) => {
      const owned = await ownActiveReseller(pool, partner_id, reseller_id);
      return owned.ok ? { ok: true as const, reseller: { reseller_id, name: owned.name } } : owned;
    },
    log,
  );
}
