// Sales on a partner's account (the OCTO adapter's confirm and cancel). A confirm is recorded as a
// payment of the reservation's exact total under the payment id `account:<reservation_id>` and runs
// the payment webhook's own path (handlePaymentNotification): same confirm in inventory, same tickets,
// same events, same billing. A cancel is the ticket cancel, once per ticket of the reservation.
import {
  type CommandClient,
  type Logger,
  type Outcome,
  type Pool,
  refuse,
  type Ticket,
  withTransaction,
} from '@cruise/shared';
import { handlePaymentNotification } from './payments.ts';
import { flushPendingReleases } from './pool-releases.ts';
import { cancelTicket, ticketsOfReservation } from './tickets.ts';

export const onAccountPaymentId = (reservationId: string) => `account:${reservationId}`;

export async function confirmOnAccount(
  pool: Pool,
  inventory: CommandClient,
  input: { partnerId: string; reservationId: string; now?: Date },
): Promise<
  Outcome<{ tickets: Ticket[] /** tickets were issued by this call (not a repeat) */; issued: boolean }>
> {
  const found = await inventory.send('readReservations', {
    partner_id: input.partnerId,
    reservation_ids: [input.reservationId],
  });
  if (!found.ok) return found;
  const reservation = found.reservations[0];
  if (!reservation) return refuse('NOT_FOUND', 'No such reservation');
  if (
    reservation.status === 'CONFIRMED' &&
    reservation.payment_id !== onAccountPaymentId(reservation.reservation_id)
  ) {
    // Paid through the payment provider already: its tickets stand, nothing is charged to the account.
    return {
      ok: true,
      tickets: await ticketsOfReservation(pool, input.partnerId, input.reservationId),
      issued: false,
    };
  }
  if (reservation.status === 'EXPIRED' || reservation.status === 'CANCELLED') {
    // Unlike a provider's payment (money already taken, so an expired hold is re-held when it can be),
    // nothing has been charged yet: the partner makes a new booking.
    return refuse(
      reservation.status === 'EXPIRED' ? 'RESERVATION_EXPIRED' : 'RESERVATION_NOT_ON_HOLD',
      `The reservation is ${reservation.status}`,
      { reservation_status: reservation.status },
    );
  }
  const paid = await handlePaymentNotification(pool, inventory, {
    payment_id: onAccountPaymentId(reservation.reservation_id),
    reservation_id: reservation.reservation_id,
    status: 'SUCCEEDED',
    amount: reservation.total,
    paid_at: (input.now ?? new Date()).toISOString(),
  });
  if (!paid.ok) return paid;
  return {
    ok: true,
    tickets: paid.result.tickets,
    issued: !paid.replayed && paid.result.reservation_status === 'CONFIRMED',
  };
}

/**
 * Cancels every ticket of a confirmed reservation in one transaction (all or none: a redeemed one
 * refuses the whole cancel), sends the units back, then has inventory close the reservation. A retry
 * after a partial failure finds the tickets already cancelled and only closes the reservation.
 */
export async function cancelReservationTickets(
  pool: Pool,
  inventory: CommandClient,
  log: Logger,
  input: { partnerId: string; reservationId: string },
): Promise<Outcome<{ tickets: Ticket[] }>> {
  const current = await ticketsOfReservation(pool, input.partnerId, input.reservationId);
  if (current.length === 0) return refuse('NOT_FOUND', 'The reservation has no tickets');
  const cancelled = await withTransaction(pool, async (client) => {
    const refs: string[] = [];
    for (const ticket of current) {
      if (ticket.status === 'CANCELLED') continue;
      const outcome = await cancelTicket(client, input.partnerId, ticket.ticket_code);
      if (!outcome.ok) throw new RefusedCancel(outcome);
      refs.push(outcome.release.ref);
    }
    return refs;
  }).catch((err: unknown) => {
    if (err instanceof RefusedCancel) return err.refusal;
    throw err;
  });
  if (!Array.isArray(cancelled)) return cancelled;
  if (cancelled.length > 0) {
    await flushPendingReleases(pool, inventory, log, { refs: cancelled }).catch((err) =>
      log.warn({ err }, 'pool releases not sent yet; the sweep will retry'),
    );
  }
  const closed = await inventory.send('closeReservation', {
    partner_id: input.partnerId,
    reservation_id: input.reservationId,
  });
  if (!closed.ok) return closed;
  return { ok: true, tickets: await ticketsOfReservation(pool, input.partnerId, input.reservationId) };
}

/** Carries a ticket's refusal out of the transaction so that every cancel before it rolls back. */
class RefusedCancel extends Error {
  readonly refusal: Extract<Awaited<ReturnType<typeof cancelTicket>>, { ok: false }>;
  constructor(refusal: RefusedCancel['refusal']) {
    super(refusal.detail);
    this.refusal = refusal;
  }
}
