// The partner's REST reservation as issuance forwards it (issuance serves `POST /api/ota/reservations`
// and `GET …/{reservation_id}`: it checks the reseller and adds the tickets, so inventory never asks it).
// Thin adapters over the reservations domain, with the route's date check and Idempotency-Key record.
import {
  AppError,
  type CommandName,
  type CommandReply,
  type Config,
  type commands,
  idempotent,
  type Pool,
  refusalError,
  refuse,
  venueDate,
} from '@cruise/shared';
import type { z } from 'zod';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';
import { getReservation, type ReservationView, reserve } from '../domain/reservations.ts';

type Settings = Pick<Config, 'RESERVATION_HOLD_SECONDS' | 'VENUE_TIMEZONE'>;
type Request<N extends CommandName> = z.output<(typeof commands)[N]['request']>;

/** Holds units for a partner's reservation, once per Idempotency-Key (refusals keep the key reusable). */
export async function createReservation(
  pool: Pool,
  config: Settings,
  request: Request<'createReservation'>,
): Promise<CommandReply<'createReservation'>> {
  const partnerId = request.partner_id.toLowerCase();
  const body = request.reservation;
  const now = new Date();
  if (body.visit_date < venueDate(now, config.VENUE_TIMEZONE)) {
    return refuse('VALIDATION_FAILED', 'The visit date is in the past', {
      errors: [{ path: 'visit_date', message: "must be today or later in the venue's time zone" }],
    });
  }
  try {
    const result = await idempotent<ReservationView>(
      pool,
      INVENTORY_SCHEMA,
      { scope: partnerId, key: request.idempotency_key, operation: 'createReservation', request: body },
      async (client) => {
        const outcome = await reserve(client, {
          partnerId,
          productId: body.product_id,
          visitDate: body.visit_date,
          resellerId: body.reseller_id ?? null,
          resellerReference: body.reseller_reference ?? null,
          items: body.items,
          holdSeconds: config.RESERVATION_HOLD_SECONDS,
          now,
        });
        // Thrown so the transaction (and the idempotency record) rolls back; the key stays reusable.
        if (!outcome.ok) throw refusalError(outcome);
        return { status: 201, body: outcome.reservation };
      },
    );
    return { ok: true, status: result.status, reservation: result.body, replayed: result.replayed };
  } catch (err) {
    // A refusal (the domain's, or the key's reuse) travels back as a value; anything else is a failure.
    if (err instanceof AppError && err.status < 500) {
      return refuse(err.code, err.message, err.extensions);
    }
    throw err;
  }
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
