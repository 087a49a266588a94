// Pools and their counters. Units move only through `moveUnits`, a conditional update that refuses a
// change leaving the pool invalid (`available < 0`, negative counters) and writes the ledger row in the
// same transaction. Allocation takes a lock on the product row so capacity holds across all pools.
import { randomUUID } from 'node:crypto';
import {
  appendPartnerEvents,
  type Channel,
  type Outcome,
  type Pool,
  type PoolClient,
  type Queryable,
  refuse,
  type SqlRow,
  withTransaction,
} from '@cruise/shared';
import type { pools } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import { expireStaleHolds } from './expiry.ts';
import { type LedgerKind, recordMovements } from './ledger.ts';

export type PoolRow = Pick<
  SqlRow<typeof pools>,
  'id' | 'product_id' | 'channel' | 'partner_id' | 'allocated' | 'held' | 'sold'
>;

export interface PoolView {
  product_id: number;
  channel: Channel;
  partner_id: string | null;
  allocated: number;
  held: number;
  sold: number;
  available: number;
}

export async function findPool(
  db: Queryable,
  productId: number,
  channel: Channel,
  partnerId: string | null,
): Promise<PoolRow | undefined> {
  const { rows } = await db.query<PoolRow>(
    `SELECT id, product_id, channel, partner_id, allocated, held, sold FROM ${table.pools}
     WHERE product_id = $1 AND channel = $2 AND partner_id IS NOT DISTINCT FROM $3`,
    [productId, channel, partnerId],
  );
  return rows[0];
}

export interface UnitMove {
  poolId: string;
  kind: Exclude<LedgerKind, 'allocate'>;
  heldDelta: number;
  soldDelta: number;
  reference: string;
}

export type MoveResult = { moved: true; pool: PoolRow } | { moved: false; pool: PoolRow | undefined };

/**
 * Applies a change to a pool's held/sold counters only if the pool stays valid, and records it in the
 * ledger. The check and the change are one UPDATE, so concurrent callers (in this or any other process)
 * can never together take more than is available.
 */
export async function moveUnits(client: PoolClient, move: UnitMove): Promise<MoveResult> {
  const { rows } = await client.query<PoolRow>(
    `UPDATE ${table.pools} SET held = held + $2, sold = sold + $3, updated_at = now()
     WHERE id = $1 AND held + $2 >= 0 AND sold + $3 >= 0 AND allocated - (held + $2) - (sold + $3) >= 0
     RETURNING id, product_id, channel, partner_id, allocated, held, sold`,
    [move.poolId, move.heldDelta, move.soldDelta],
  );
  const pool = rows[0];
  if (!pool) {
    const { rows } = await client.query<PoolRow>(
      `SELECT id, product_id, channel, partner_id, allocated, held, sold FROM ${table.pools} WHERE id = $1`,
      [move.poolId],
    );
    return { moved: false, pool: rows[0] };
  }
  await recordMovements(client, [move]);
  return { moved: true, pool };
}

export interface HoldRequest {
  quantity: number;
  /** The ledger row's reference (`reservation:<id>`). */
  reference: string;
}

export interface Admission {
  admitted: boolean;
  /** Units left available once this request was decided (what a refused one is told). */
  left: number;
}

/**
 * Several holds on one pool in one statement (grouped holds): under the pool row's lock, the requests are
 * taken in their order, each admitted only if it fits in what the earlier ones left (exactly what they
 * would get one by one in that order); the pool's `held` grows by the admitted units alone, still guarded
 * by the same `available >= units` condition as `moveUnits`, and each admitted hold gets its ledger row.
 * Concurrent groups and single holds on the pool queue on its row lock and see each other's commits.
 */
export async function admitHolds(
  client: PoolClient,
  poolId: string,
  requests: HoldRequest[],
): Promise<Admission[]> {
  const { rows } = await client.query<{ admitted: boolean; left: number; moved: number }>(
    `WITH RECURSIVE request AS (
       SELECT qty, ref, ord FROM unnest($2::int[], $3::text[]) WITH ORDINALITY AS r(qty, ref, ord)
     ), locked AS (
       SELECT allocated - held - sold AS available FROM ${table.pools} WHERE id = $1 FOR UPDATE
     ), walk (ord, admitted, remaining) AS (
       SELECT 0::bigint, false, (SELECT available FROM locked)
       UNION ALL
       SELECT r.ord, r.qty <= w.remaining, w.remaining - CASE WHEN r.qty <= w.remaining THEN r.qty ELSE 0 END
       FROM walk w JOIN request r ON r.ord = w.ord + 1
     ), taken AS (
       SELECT COALESCE(sum(r.qty), 0)::int AS units FROM walk w JOIN request r USING (ord) WHERE w.admitted
     ), moved AS (
       UPDATE ${table.pools} p SET held = p.held + t.units, updated_at = now() FROM taken t
       WHERE p.id = $1 AND t.units > 0 AND p.allocated - p.held - p.sold >= t.units
       RETURNING p.id
     ), ledger AS (
       INSERT INTO ${table.inventory_ledger} (pool_id, kind, held_delta, reference)
       SELECT $1, 'hold', r.qty, r.ref FROM walk w JOIN request r USING (ord) CROSS JOIN moved WHERE w.admitted
     )
     SELECT COALESCE(w.admitted, false) AS admitted, GREATEST(COALESCE(w.remaining, 0), 0)::int AS left, (SELECT count(*) FROM moved)::int AS moved
     FROM walk w WHERE w.ord > 0 ORDER BY w.ord`,
    [poolId, requests.map((r) => r.quantity), requests.map((r) => r.reference)],
  );
  // The guard refusing what the walk admitted would mean the lock did not hold: fail the group.
  if (rows.some((r) => r.admitted) && rows[0]!.moved !== 1) {
    throw new Error(`pool ${poolId} changed under its lock`);
  }
  return rows.map((r) => ({ admitted: r.admitted, left: r.left }));
}

export function available(pool: Pick<PoolRow, 'allocated' | 'held' | 'sold'>): number {
  return pool.allocated - pool.held - pool.sold;
}

export function toPoolView(pool: PoolRow): PoolView {
  return {
    product_id: pool.product_id,
    channel: pool.channel,
    partner_id: pool.partner_id,
    allocated: pool.allocated,
    held: pool.held,
    sold: pool.sold,
    available: available(pool),
  };
}

/**
 * Pools as a caller should see them at `now`: units of holds past their expiry count as available even
 * before the sweeper (or the next reservation) has released them. Read-only.
 */
export async function poolViews(
  db: Queryable,
  filter: { partnerId: string | null; now: Date },
): Promise<PoolView[]> {
  const { rows } = await db.query<PoolRow & { stale: number }>(
    `SELECT p.id, p.product_id, p.channel, p.partner_id, p.allocated, p.held, p.sold,
            COALESCE((SELECT sum(r.quantity) FROM ${table.reservations} r
                      WHERE r.pool_id = p.id AND r.status = 'ON_HOLD' AND r.expires_at <= $2), 0)::int AS stale
     FROM ${table.pools} p WHERE p.partner_id IS NOT DISTINCT FROM $1
     ORDER BY p.product_id, p.channel`,
    [filter.partnerId, filter.now],
  );
  return rows.map((r) => toPoolView({ ...r, held: r.held - r.stale }));
}

export interface AllocationInput {
  productId: number;
  channel: Channel;
  partnerId: string | null;
  allocated: number;
  now?: Date;
}

/**
 * Sets a pool's allocation (creating the pool when needed). Refused below the pool's held + sold, or
 * when all of the product's pools together would exceed its capacity. The product row is locked for
 * the duration, so two concurrent allocations cannot together pass the capacity.
 */
export async function setAllocation(
  pool: Pool,
  input: AllocationInput,
): Promise<Outcome<{ pool: PoolView }, 'UNKNOWN_PRODUCT' | 'ALLOCATION_CONFLICT'>> {
  if ((input.channel === 'direct') !== (input.partnerId === null)) {
    throw new Error('the direct pool has no partner; ota and reseller pools have one');
  }
  return withTransaction(pool, async (client) => {
    // FOR NO KEY UPDATE: serialises allocations of the product without blocking the foreign-key checks
    // of reservations and ledger rows that reference it.
    const product = await client.query<{ capacity: number }>(
      `SELECT capacity FROM ${table.products} WHERE id = $1 FOR NO KEY UPDATE`,
      [input.productId],
    );
    const capacity = product.rows[0]?.capacity;
    if (capacity === undefined) return refuse('UNKNOWN_PRODUCT', `Product ${input.productId} does not exist`);

    await client.query(
      `INSERT INTO ${table.pools} (product_id, channel, partner_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [input.productId, input.channel, input.partnerId],
    );
    const target = (await findPool(client, input.productId, input.channel, input.partnerId))!;
    // Release this pool's expired holds first: they must not make a lower allocation look impossible.
    await expireStaleHolds(client, target.id, input.now ?? new Date());
    const locked = await client.query<PoolRow>(
      `SELECT id, product_id, channel, partner_id, allocated, held, sold FROM ${table.pools} WHERE id = $1 FOR UPDATE`,
      [target.id],
    );
    const current = locked.rows[0]!;
    if (input.allocated < current.held + current.sold) {
      return refuse(
        'ALLOCATION_CONFLICT',
        `Cannot allocate ${input.allocated}: ${current.held} units are held and ${current.sold} sold in this pool`,
        { held: current.held, sold: current.sold },
      );
    }
    const others = await client.query<{ total: number }>(
      `SELECT COALESCE(sum(allocated), 0)::int AS total FROM ${table.pools} WHERE product_id = $1 AND id <> $2`,
      [input.productId, current.id],
    );
    const elsewhere = others.rows[0]!.total;
    if (elsewhere + input.allocated > capacity) {
      return refuse(
        'ALLOCATION_CONFLICT',
        `Cannot allocate ${input.allocated}: product ${input.productId} has a capacity of ${capacity} and ${elsewhere} units are allocated to other pools`,
        { capacity, allocated_elsewhere: elsewhere },
      );
    }
    const delta = input.allocated - current.allocated;
    if (delta !== 0) {
      await client.query(`UPDATE ${table.pools} SET allocated = $2, updated_at = now() WHERE id = $1`, [
        current.id,
        input.allocated,
      ]);
      await recordMovements(client, [
        {
          poolId: current.id,
          kind: 'allocate',
          allocatedDelta: delta,
          reference: `allocation:${randomUUID()}`,
        },
      ]);
      if (current.partner_id) {
        const view = toPoolView({ ...current, allocated: input.allocated });
        await appendPartnerEvents(client, 'inventory', [
          { type: 'allocation.updated', partnerId: current.partner_id, data: { pool: view } },
        ]);
      }
    }
    return { ok: true, pool: toPoolView({ ...current, allocated: input.allocated }) };
  });
}

/** The demo partner's seed allocations (api.md "Seed data"). */
export const SEED_PARTNER_ALLOCATIONS: {
  productId: number;
  channel: 'ota' | 'reseller';
  allocated: number;
}[] = [
  { productId: 106, channel: 'ota', allocated: 2_000 },
  { productId: 107, channel: 'ota', allocated: 1_500 },
  { productId: 108, channel: 'ota', allocated: 1_500 },
  { productId: 106, channel: 'reseller', allocated: 1_000 },
  { productId: 107, channel: 'reseller', allocated: 500 },
  { productId: 108, channel: 'reseller', allocated: 500 },
];

/**
 * Gives a partner the seed allocations; idempotent: a pool the partner already has is left as it is
 * (an operator may have changed it). Fails when the capacity does not allow it.
 */
export async function seedPartnerPools(pool: Pool, partnerId: string): Promise<void> {
  for (const seed of SEED_PARTNER_ALLOCATIONS) {
    const existing = await findPool(pool, seed.productId, seed.channel, partnerId);
    if (existing && existing.allocated > 0) continue;
    const result = await setAllocation(pool, { ...seed, partnerId });
    if (!result.ok) throw new Error(`Cannot seed partner ${partnerId}'s pools: ${result.detail}`);
  }
}

/** Every pool (or one partner's), for the operator console: the same counters as `poolViews`. */
export async function allPoolViews(
  db: Queryable,
  filter: { partnerId?: string | undefined; now: Date },
): Promise<PoolView[]> {
  const { rows } = await db.query<PoolRow & { stale: number }>(
    `SELECT p.id, p.product_id, p.channel, p.partner_id, p.allocated, p.held, p.sold,
            COALESCE((SELECT sum(r.quantity) FROM ${table.reservations} r
                      WHERE r.pool_id = p.id AND r.status = 'ON_HOLD' AND r.expires_at <= $2), 0)::int AS stale
     FROM ${table.pools} p WHERE ($1::uuid IS NULL OR p.partner_id = $1)
     ORDER BY p.partner_id NULLS FIRST, p.product_id, p.channel`,
    [filter.partnerId ?? null, filter.now],
  );
  return rows.map((r) => toPoolView({ ...r, held: r.held - r.stale }));
}
