// Control runs: the unguarded variants that the concurrency tests use to show the race a safeguard
// prevents. They live here, in test code; the service's domain code has only the guarded versions.
//
// The naive hold replaces the domain's `moveUnits` and `admitHolds` through vitest's module mock (see `naivePools`):
// a test file that wants it declares
//   vi.mock('<path to>/src/domain/pools.ts', async (importOriginal) =>
//     (await import('<path to>/test/controls.ts')).naivePools(await importOriginal()));
// and runs its control inside `withNaiveHolds(...)`; outside it the real conditional update runs. It must
// import '<path to>/src/domain/reservations.ts' before anything else of inventory: pools → expiry →
// reservations → pools is a cycle, and reservations reached first through the mocked pools binds the original.
import { type Pool, type PoolClient, withTransaction } from '@cruise/shared';
import { recordMovements } from '../src/domain/ledger.ts';
import type * as Pools from '../src/domain/pools.ts';

const holds: { on: boolean; lineUp: (() => Promise<void>) | undefined } = { on: false, lineUp: undefined };

/**
 * Runs `fn` with every unit move done the naive way (read the counters, decide in JS, write back).
 * `lineUp` (a testkit `barrier(2)`) holds the first naive moves between their read and their write
 * until both have read: the lost update then happens in every run, not only when the scheduler
 * happens to interleave them.
 */
export async function withNaiveHolds<T>(
  fn: () => Promise<T>,
  options: { lineUp?: () => Promise<void> } = {},
): Promise<T> {
  holds.on = true;
  holds.lineUp = options.lineUp;
  try {
    return await fn();
  } finally {
    holds.on = false;
    holds.lineUp = undefined;
  }
}

/**
 * The pools module with `moveUnits` and the grouped holds' `admitHolds` switchable to the naive
 * read-then-write (test files only).
 */
export function naivePools(original: typeof Pools): typeof Pools {
  return {
    ...original,
    moveUnits: (client, move) => (holds.on ? readThenWrite(client, move) : original.moveUnits(client, move)),
    admitHolds: (client, poolId, requests) =>
      holds.on
        ? readThenAdmit(client, poolId, requests, holds.lineUp)
        : original.admitHolds(client, poolId, requests),
  };
}

const POOL_COLUMNS = 'id, product_id, channel, partner_id, allocated, held, sold';

/** Reads the counters, checks in JavaScript, writes the result back: loses updates under concurrency. */
async function readThenWrite(client: PoolClient, move: Pools.UnitMove): Promise<Pools.MoveResult> {
  if (process.env.DEBUG_NAIVE) console.log('NAIVE', move.poolId);
  const { rows } = await client.query<Pools.PoolRow>(
    `SELECT ${POOL_COLUMNS} FROM "inventory".pools WHERE id = $1`,
    [move.poolId],
  );
  const read = rows[0];
  if (!read) return { moved: false, pool: undefined };
  await holds.lineUp?.();
  const held = read.held + move.heldDelta;
  const sold = read.sold + move.soldDelta;
  if (held < 0 || sold < 0 || read.allocated - held - sold < 0) return { moved: false, pool: read };
  await client.query(`UPDATE "inventory".pools SET held = $2, sold = $3, updated_at = now() WHERE id = $1`, [
    move.poolId,
    held,
    sold,
  ]);
  await recordMovements(client, [move]);
  return { moved: true, pool: { ...read, held, sold } };
}

/**
 * A group's admission done the naive way: reads the counters without a lock, admits in JavaScript,
 * writes the new `held` back. `beforeWrite` (when given) lines racers up between the read and the write.
 */
export async function readThenAdmit(
  client: PoolClient,
  poolId: string,
  requests: Pools.HoldRequest[],
  beforeWrite?: () => Promise<void>,
): Promise<Pools.Admission[]> {
  const { rows } = await client.query<Pools.PoolRow>(
    `SELECT ${POOL_COLUMNS} FROM "inventory".pools WHERE id = $1`,
    [poolId],
  );
  const read = rows[0]!;
  let left = read.allocated - read.held - read.sold;
  const admissions = requests.map((r) => {
    const admitted = r.quantity <= left;
    if (admitted) left -= r.quantity;
    return { admitted, left };
  });
  await beforeWrite?.();
  const taken = requests.reduce((n, r, i) => n + (admissions[i]!.admitted ? r.quantity : 0), 0);
  await client.query('UPDATE "inventory".pools SET held = $2, updated_at = now() WHERE id = $1', [
    poolId,
    read.held + taken,
  ]);
  await recordMovements(
    client,
    requests.flatMap((r, i) =>
      admissions[i]!.admitted
        ? [{ poolId, kind: 'hold' as const, heldDelta: r.quantity, reference: r.reference }]
        : [],
    ),
  );
  return admissions;
}

/**
 * An allocation without the product row lock: reads the capacity and the other pools' allocations,
 * then writes. `beforeWrite` lets the caller line every racer up between the read and the write, the
 * window the product lock closes. Returns whether the allocation was granted.
 */
export async function unlockedAllocation(
  pool: Pool,
  input: { productId: number; partnerId: string; allocated: number },
  beforeWrite: () => Promise<void>,
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const product = await client.query<{ capacity: number }>(
      'SELECT capacity FROM "inventory".products WHERE id = $1',
      [input.productId],
    );
    const capacity = product.rows[0]!.capacity;
    const others = await client.query<{ total: number }>(
      `SELECT COALESCE(sum(allocated), 0)::int AS total FROM "inventory".pools
       WHERE product_id = $1 AND partner_id IS DISTINCT FROM $2`,
      [input.productId, input.partnerId],
    );
    const granted = others.rows[0]!.total + input.allocated <= capacity;
    await beforeWrite();
    if (!granted) return false;
    await client.query(
      `INSERT INTO "inventory".pools (product_id, channel, partner_id, allocated) VALUES ($1, 'ota', $2, $3)`,
      [input.productId, input.partnerId, input.allocated],
    );
    return true;
  });
}
