import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';
import { pools } from './pools.ts';

/**
 * Every movement of units in a pool, written in the same transaction as the counter change, so each
 * pool's counters equal the sums of its deltas (`checkLedger`). Unique (kind, reference): one movement
 * of a kind per cause, which also makes a retried command unable to move units twice.
 */
export const inventoryLedger = inventorySchema.table(
  'inventory_ledger',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    poolId: uuid('pool_id')
      .notNull()
      .references(() => pools.id),
    /** allocate | hold | release | sell | expire */
    kind: text('kind').notNull(),
    allocatedDelta: integer('allocated_delta').notNull().default(0),
    heldDelta: integer('held_delta').notNull().default(0),
    soldDelta: integer('sold_delta').notNull().default(0),
    /** What caused it, e.g. `reservation:<id>`, `batch:<id>`, `allocation:<id>`. */
    reference: text('reference').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('inventory_ledger_kind_reference_key').on(t.kind, t.reference),
    check('inventory_ledger_kind_check', sql`${t.kind} IN ('allocate', 'hold', 'release', 'sell', 'expire')`),
    index('inventory_ledger_pool_idx').on(t.poolId),
  ],
);
