// Reservations as other services ask for them over NATS (the OCTO adapter, issuance): the same hold,
// cancel and read as the REST routes, plus the two changes only a command needs — extending a hold and
// closing a confirmed reservation whose tickets issuance has cancelled.
import {
  isValidDate,
  type Outcome,
  type Pool,
  type ReservationSnapshot,
  refuse,
  withTransaction,
} from '@cruise/shared';
import { table } from '../db/tables.ts';
import { runOnce } from './command-log.ts';
import type { RequestedItem } from './pricing.ts';
import {
  cancelReservation,
  lockReservation,
  RESERVATION_COLUMNS,
  type ReservationRow,
  reserve,
  settleExpiry,
  toReservationSnapshot,
} from './reservations.ts';

/** No hold lasts beyond this from its creation, however often it is extended. */
export const MAX_HOLD_LIFETIME_SECONDS = 48 * 3600;

/** Some of a partner's reservations; the query is partner-scoped, so another partner's never appear. */
export async function reservationSnapshots(
  db: Pick<Pool, 'query'>,
  partnerId: string,
  reservationIds: string[],
  now: Date = new Date(),
): Promise<ReservationSnapshot[]> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM ${table.reservations} WHERE partner_id = $1 AND id = ANY($2::uuid[])`,
    [partnerId, reservationIds],
  );
  return rows.map((r) => toReservationSnapshot(r, now));
}

async function snapshotOf(pool: Pool, partnerId: string, reservationId: string) {
  const [snapshot] = await reservationSnapshots(pool, partnerId, [reservationId]);
  return snapshot ? { ok: true as const, reservation: snapshot } : refuse('NOT_FOUND', 'No such reservation');
}

/** The REST reservation's hold (`reserve`), run once per `ref`, with the hold's own length. */
export function holdReservation(
  pool: Pool,
  input: {
    ref: string;
    partner_id: string;
    product_id: number;
    visit_date: string;
    reseller_reference: string | null;
    items: RequestedItem[];
    hold_seconds: number;
  },
  /** Called once when the hold is made (not when a duplicate `ref` replays it). */
  onHeld?: () => void,
): Promise<Outcome<{ reservation: ReservationSnapshot }>> {
  return runOnce(pool, 'holdReservation', input.ref, input, async (client) => {
    if (!isValidDate(input.visit_date)) {
      return refuse('VALIDATION_FAILED', `"${input.visit_date}" is not a date YYYY-MM-DD`);
    }
    if (input.hold_seconds > MAX_HOLD_LIFETIME_SECONDS) {
      return refuse('VALIDATION_FAILED', `A hold lasts at most ${MAX_HOLD_LIFETIME_SECONDS} s`);
    }
    const now = new Date();
    const held = await reserve(client, {
      partnerId: input.partner_id,
      productId: input.product_id,
      visitDate: input.visit_date,
      resellerId: null,
      resellerReference: input.reseller_reference,
      items: input.items,
      holdSeconds: input.hold_seconds,
      now,
    });
    if (!held.ok) return held;
    const { rows } = await client.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM ${table.reservations} WHERE id = $1`,
      [held.reservation.reservation_id],
    );
    onHeld?.();
    return { ok: true, reservation: toReservationSnapshot(rows[0]!, now) };
  });
}

/**
 * Adds `seconds` to an ON_HOLD reservation's expiry, capped at MAX_HOLD_LIFETIME_SECONDS from its
 * creation. A hold already past its expiry is EXPIRED (its units went back) and cannot be extended.
 */
export async function extendHold(
  pool: Pool,
  input: { partner_id: string; reservation_id: string; seconds: number; now?: Date },
): Promise<Outcome<{ reservation: ReservationSnapshot }>> {
  const now = input.now ?? new Date();
  return withTransaction(pool, async (client) => {
    const locked = await lockReservation(client, input.reservation_id, input.partner_id);
    if (!locked) return refuse('NOT_FOUND', 'No such reservation');
    const row = await settleExpiry(client, locked, now);
    if (row.status !== 'ON_HOLD') {
      return refuse(
        'RESERVATION_NOT_ON_HOLD',
        `The reservation is ${row.status}; only ON_HOLD can be extended`,
        {
          reservation_status: row.status,
        },
      );
    }
    const latest = row.created_at.getTime() + MAX_HOLD_LIFETIME_SECONDS * 1000;
    const expiresAt = new Date(Math.min(row.expires_at.getTime() + input.seconds * 1000, latest));
    const { rows } = await client.query<ReservationRow>(
      `UPDATE ${table.reservations} SET expires_at = $2 WHERE id = $1 RETURNING ${RESERVATION_COLUMNS}`,
      [row.id, expiresAt],
    );
    return { ok: true, reservation: toReservationSnapshot(rows[0]!, now) };
  });
}

/** The REST cancel (ON_HOLD → CANCELLED, units back), answered with the snapshot. */
export async function cancelHold(
  pool: Pool,
  input: { partner_id: string; reservation_id: string },
): Promise<Outcome<{ reservation: ReservationSnapshot }>> {
  const cancelled = await cancelReservation(pool, {
    partnerId: input.partner_id,
    reservationId: input.reservation_id,
  });
  if (!cancelled.ok) return cancelled;
  return snapshotOf(pool, input.partner_id, input.reservation_id);
}

/**
 * CONFIRMED → CANCELLED after issuance cancelled every ticket of the reservation. No unit moves here:
 * each cancelled ticket's own release returned its unit from `sold`, exactly as a single ticket cancel does.
 */
export async function closeReservation(
  pool: Pool,
  input: { partner_id: string; reservation_id: string; now?: Date },
): Promise<Outcome<{ reservation: ReservationSnapshot }>> {
  const now = input.now ?? new Date();
  return withTransaction(pool, async (client) => {
    const row = await lockReservation(client, input.reservation_id, input.partner_id);
    if (!row) return refuse('NOT_FOUND', 'No such reservation');
    if (row.status === 'CANCELLED') return { ok: true, reservation: toReservationSnapshot(row, now) };
    if (row.status !== 'CONFIRMED') {
      return refuse('RESERVATION_NOT_ON_HOLD', `The reservation is ${row.status}, not CONFIRMED`, {
        reservation_status: row.status,
      });
    }
    const { rows } = await client.query<ReservationRow>(
      `UPDATE ${table.reservations} SET status = 'CANCELLED', cancelled_at = $2 WHERE id = $1
       RETURNING ${RESERVATION_COLUMNS}`,
      [row.id, now],
    );
    return { ok: true, reservation: toReservationSnapshot(rows[0]!, now) };
  });
}
