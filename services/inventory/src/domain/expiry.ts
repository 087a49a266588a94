// Expiry of holds. A hold past `expires_at` is released by whichever comes first: the sweeper
// (`expireHolds`, run by the BullMQ scheduler) or any transaction that needs the pool's units
// (`expireStaleHolds`, called before deciding availability), so availability never waits for the sweep.
import {
  appendEvent,
  appendPartnerEvents,
  type Pool,
  type PoolClient,
  withTransaction,
} from '@cruise/shared';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';
import { table } from '../db/tables.ts';
import { recordMovements } from './ledger.ts';
// A cycle (reservations.ts imports this file); only functions and constants used at call time cross it.
import { RESERVATION_COLUMNS, type ReservationRow, reservationEvent } from './reservations.ts';

interface ExpiringHold {
  id: string;
  pool_id: string;
  partner_id: string;
  product_id: number;
  quantity: number;
}

/**
 * Marks already-locked ON_HOLD reservations EXPIRED, gives their units back to their pools, writes the
 * ledger and the `reservationsExpired` event, all in the caller's transaction.
 */
export async function expireLockedHolds(client: PoolClient, holds: ExpiringHold[], now: Date): Promise<void> {
  if (holds.length === 0) return;
  const { rows: expired } = await client.query<ReservationRow>(
    `UPDATE ${table.reservations} SET status = 'EXPIRED', expired_at = $2 WHERE id = ANY($1::uuid[])
     RETURNING ${RESERVATION_COLUMNS}`,
    [holds.map((h) => h.id), now],
  );
  const perPool = new Map<string, number>();
  for (const h of holds) perPool.set(h.pool_id, (perPool.get(h.pool_id) ?? 0) + h.quantity);
  // Pools in a fixed order, so two sweepers touching the same pools cannot deadlock.
  for (const [poolId, quantity] of [...perPool].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await client.query(`UPDATE ${table.pools} SET held = held - $2, updated_at = now() WHERE id = $1`, [
      poolId,
      quantity,
    ]);
  }
  await recordMovements(
    client,
    holds.map((h) => ({
      poolId: h.pool_id,
      kind: 'expire' as const,
      heldDelta: -h.quantity,
      reference: `reservation:${h.id}`,
    })),
  );
  await appendEvent(client, INVENTORY_SCHEMA, 'reservationsExpired', {
    reservations: holds.map((h) => ({
      reservation_id: h.id,
      partner_id: h.partner_id,
      product_id: h.product_id,
      quantity: h.quantity,
    })),
  });
  await appendPartnerEvents(
    client,
    'inventory',
    expired.map((r) => reservationEvent('reservation.expired', r, now)),
  );
}

/**
 * Inside a transaction about to use a pool: expires its holds that are past their expiry. Waits for
 * rows another transaction is expiring (rather than skipping them) so their units are counted.
 */
export async function expireStaleHolds(client: PoolClient, poolId: string, now: Date): Promise<number> {
  const { rows } = await client.query<ExpiringHold>(
    `SELECT id, pool_id, partner_id, product_id, quantity FROM ${table.reservations}
     WHERE pool_id = $1 AND status = 'ON_HOLD' AND expires_at <= $2 ORDER BY id FOR UPDATE`,
    [poolId, now],
  );
  await expireLockedHolds(client, rows, now);
  return rows.length;
}

/**
 * The sweeper: expires every hold past its expiry at `now`, in batches. Several instances may run it
 * at once: each batch claims its rows with SKIP LOCKED, so they share the work instead of colliding.
 */
export async function expireHolds(pool: Pool, now: Date, opts: { batchSize?: number } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  let total = 0;
  for (;;) {
    const expired = await withTransaction(pool, async (client) => {
      const { rows } = await client.query<ExpiringHold>(
        `SELECT id, pool_id, partner_id, product_id, quantity FROM ${table.reservations}
         WHERE status = 'ON_HOLD' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now, batchSize],
      );
      await expireLockedHolds(client, rows, now);
      return rows.length;
    });
    total += expired;
    if (expired < batchSize) return total;
  }
}
