// The partner's REST reservation as issuance forwards it (issuance serves `POST /api/ota/reservations`
// and `GET …/{reservation_id}`: it checks the reseller and adds the tickets, so inventory never asks it).
// Thin adapters over the reservations domain (the hold itself: domain/partner-holds.ts).
import {
  type CommandName,
  type CommandReply,
  type Config,
  type commands,
  type Pool,
  refuse,
  venueDate,
} from '@cruise/shared';
import type { z } from 'zod';
import { type HoldAnswer, type PartnerHold, poolKey } from '../domain/partner-holds.ts';
import { getReservation } from '../domain/reservations.ts';
import type { GroupCommit } from '../group-commit.ts';

type Settings = Pick<Config, 'RESERVATION_HOLD_SECONDS' | 'VENUE_TIMEZONE'>;
type Request<N extends CommandName> = z.output<(typeof commands)[N]['request']>;

/**
 * Holds units for a partner's reservation, once per Idempotency-Key (refusals keep the key reusable),
 * grouped with the other holds on the same pool (`holds`, see domain/partner-holds.ts).
 */
export async function createReservation(
  holds: GroupCommit<PartnerHold, HoldAnswer>,
  config: Settings,
  request: Request<'createReservation'>,
): Promise<CommandReply<'createReservation'>> {
  const now = new Date();
  const body = request.reservation;
  if (body.visit_date < venueDate(now, config.VENUE_TIMEZONE)) {
    return refuse('VALIDATION_FAILED', 'The visit date is in the past', {
      errors: [{ path: 'visit_date', message: "must be today or later in the venue's time zone" }],
    });
  }
  const hold: PartnerHold = {
    partnerId: request.partner_id.toLowerCase(),
    key: request.idempotency_key,
    body,
    holdSeconds: config.RESERVATION_HOLD_SECONDS,
    now,
  };
  return holds.submit(poolKey(hold), hold);
}

/** One of the partner's reservations; another partner's is as unknown as a missing one. */
export async function partnerReservation(
  pool: Pool,
  request: Request<'partnerReservation'>,
): Promise<CommandReply<'partnerReservation'>> {
  const found = await getReservation(pool, {
    partnerId: request.partner_id.toLowerCase(),
    reservationId: request.reservation_id,
  });
  return found ? { ok: true, reservation: found } : refuse('NOT_FOUND', 'No such reservation');
}
