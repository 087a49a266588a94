// NATS responders for the OCTO adapter's bookings (inventory owns reservations, issuance their tickets):
// the tickets of a confirmed reservation, the on-account confirm and the cancel of a confirmed one.
import { type CommandClient, type Logger, type NatsConnection, type Pool, respond } from '@cruise/shared';
import { cancelReservationTickets, confirmOnAccount } from '../domain/on-account-sales.ts';
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

/** The OCTO adapter's confirm (an on-account sale) and cancel of a confirmed booking. */
export function respondOnAccountSales(
  nc: NatsConnection,
  prefix: string,
  pool: Pool,
  inventory: CommandClient,
  log: Logger,
  eventsWritten: () => void,
) {
  return [
    respond(
      nc,
      prefix,
      'confirmOnAccount',
      'issuance',
      async ({ partner_id, reservation_id }) => {
        const outcome = await confirmOnAccount(pool, inventory, {
          partnerId: partner_id,
          reservationId: reservation_id,
        });
        eventsWritten();
        return outcome;
      },
      log,
    ),
    respond(
      nc,
      prefix,
      'cancelReservationTickets',
      'issuance',
      async ({ partner_id, reservation_id }) => {
        const outcome = await cancelReservationTickets(pool, inventory, log, {
          partnerId: partner_id,
          reservationId: reservation_id,
        });
        eventsWritten();
        return outcome;
      },
      log,
    ),
  ];
}
