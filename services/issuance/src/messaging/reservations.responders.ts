// NATS responders for inventory's reservations (inventory owns reservations, issuance their tickets and
// the partners' resellers): the tickets of a confirmed reservation, and whether a named reseller is the
// partner's own.
import { type CommandClient, type Logger, type NatsConnection, type Pool, respond } from '@cruise/shared';
import { cancelReservationTickets, confirmOnAccount } from '../domain/on-account-sales.ts';
import { ownActiveReseller, ticketsOfReservation } from '../domain/tickets.ts';
import type { IssuanceMetrics } from '../metrics.ts';

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

/** The OCTO adapter's confirm (an on-account sale) and cancel of a confirmed booking. */
export function respondOnAccountSales(
  nc: NatsConnection,
  prefix: string,
  pool: Pool,
  inventory: CommandClient,
  log: Logger,
  eventsWritten: () => void,
  /** On-account confirms count as payments (`on_account`) and their tickets as issued (channel ota). */
  metrics?: IssuanceMetrics,
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
        if (!outcome.ok) {
          metrics?.payments.inc({ outcome: outcome.code.toLowerCase() });
          return outcome;
        }
        const { issued, ...reply } = outcome;
        if (issued) {
          metrics?.payments.inc({ outcome: 'on_account' });
          metrics?.ticketsIssued.inc({ channel: 'ota' }, reply.tickets.length);
        } else metrics?.payments.inc({ outcome: 'replayed' });
        return reply;
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
