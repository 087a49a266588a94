// The inventory ledger: every movement of units is a row, written in the transaction that changes the
// pool's counters, so the counters can always be rebuilt from it and checked against it.
import type { PoolClient, Queryable } from '@cruise/shared';
import { table } from '../db/tables.ts';
import type { PoolRow } from './pools.ts';

export type LedgerKind = 'allocate' | 'hold' | 'release' | 'sell' | 'expire';

export interface Movement {
  poolId: string;
  kind: LedgerKind;
  allocatedDelta?: number;
  heldDelta?: number;
  soldDelta?: number;
  /** The cause (`reservation:<id>`, `batch:<id>` …); unique per kind. */
  reference: string;
}

/** Appends movements to the ledger (one statement however many). */
export async function recordMovements(client: PoolClient, movements: Movement[]): Promise<void> {
  if (movements.length === 0) return;
  await client.query(
    `INSERT INTO ${table.inventory_ledger} (pool_id, kind, allocated_delta, held_delta, sold_delta, reference)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::int[], $6::text[])`,
    [
      movements.map((m) => m.poolId),
      movements.map((m) => m.kind),
      movements.map((m) => m.allocatedDelta ?? 0),
      movements.map((m) => m.heldDelta ?? 0),
      movements.map((m) => m.soldDelta ?? 0),
      movements.map((m) => m.reference),
    ],
  );
}

export interface Counters {
  allocated: number;
  held: number;
  sold: number;
}

export interface PoolBalance {
  pool_id: string;
  product_id: number;
  channel: string;
  partner_id: string | null;
  /** The pool row's counters. */
  counters: Counters;
  /** The same counters rebuilt by summing the pool's ledger. */
  rebuilt: Counters;
}

/** Every pool's counters next to the counters its ledger adds up to. */
export async function rebuildPoolCounters(db: Queryable): Promise<PoolBalance[]> {
  // The pool's columns (its id as pool_id) and the ledger's sums per counter.
  const { rows } = await db.query<
    Omit<PoolRow, 'id'> & { pool_id: PoolRow['id']; l_allocated: number; l_held: number; l_sold: number }
  >(
    `SELECT p.id AS pool_id, p.product_id, p.channel, p.partner_id, p.allocated, p.held, p.sold,
            COALESCE(l.allocated, 0)::int AS l_allocated, COALESCE(l.held, 0)::int AS l_held,
            COALESCE(l.sold, 0)::int AS l_sold
     FROM ${table.pools} p
     LEFT JOIN (SELECT pool_id, sum(allocated_delta) AS allocated, sum(held_delta) AS held, sum(sold_delta) AS sold
                FROM ${table.inventory_ledger} GROUP BY pool_id) l ON l.pool_id = p.id
     ORDER BY p.product_id, p.channel, p.partner_id NULLS FIRST`,
  );
  return rows.map((r) => ({
    pool_id: r.pool_id,
    product_id: r.product_id,
    channel: r.channel,
    partner_id: r.partner_id,
    counters: { allocated: r.allocated, held: r.held, sold: r.sold },
    rebuilt: { allocated: r.l_allocated, held: r.l_held, sold: r.l_sold },
  }));
}

export interface LedgerCheck {
  ok: boolean;
  pools: number;
  /** Pools whose counters differ from their ledger. */
  mismatches: PoolBalance[];
}

/** Verifies that every pool's counters equal the sums of its ledger. */
export async function checkLedger(db: Queryable): Promise<LedgerCheck> {
  const balances = await rebuildPoolCounters(db);
  const mismatches = balances.filter(
    (b) =>
      b.counters.allocated !== b.rebuilt.allocated ||
      b.counters.held !== b.rebuilt.held ||
      b.counters.sold !== b.rebuilt.sold,
  );
  return { ok: mismatches.length === 0, pools: balances.length, mismatches };
}
