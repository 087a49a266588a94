// Whole-system invariants, read straight from every service's tables after a scenario (a checker may
// look across schemas; the services never do). Each check returns the rows that break it, so a failure
// says which pool, reservation or ticket is wrong. The system is eventually consistent across services
// (ticket cancellations release units through a retried command, redemptions reach issuance through
// events), so `waitForInvariants` retries until everything holds or the time is up.
import type { Pool } from 'pg';

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** Up to 20 offending rows. */
  violations: unknown[];
  error?: string;
}

export interface InvariantOptions {
  /** Partners whose rows were written directly by a bench (e.g. a million seeded tickets): left out. */
  excludePartners?: string[];
}

interface Check {
  name: string;
  sql: string;
}

// $1 is always the array of excluded partner ids.
const CHECKS: Check[] = [
  {
    name: 'pool counters equal the ledger',
    sql: `
      SELECT p.id AS pool_id, p.product_id, p.channel, p.partner_id,
             p.allocated, p.held, p.sold,
             COALESCE(l.allocated, 0) AS ledger_allocated, COALESCE(l.held, 0) AS ledger_held,
             COALESCE(l.sold, 0) AS ledger_sold
        FROM inventory.pools p
        LEFT JOIN (SELECT pool_id, sum(allocated_delta) AS allocated, sum(held_delta) AS held,
                          sum(sold_delta) AS sold
                     FROM inventory.inventory_ledger GROUP BY pool_id) l ON l.pool_id = p.id
       WHERE (p.partner_id IS NULL OR p.partner_id <> ALL($1::uuid[]))
         AND (p.allocated <> COALESCE(l.allocated, 0) OR p.held <> COALESCE(l.held, 0)
              OR p.sold <> COALESCE(l.sold, 0))`,
  },
  {
    name: 'no pool holds or sells more than it was allocated',
    sql: `
      SELECT id AS pool_id, product_id, channel, partner_id, allocated, held, sold
        FROM inventory.pools
       WHERE held < 0 OR sold < 0 OR held + sold > allocated`,
  },
  {
    name: 'no product is allocated beyond its capacity',
    sql: `
      SELECT pr.id AS product_id, pr.capacity, sum(p.allocated) AS allocated
        FROM inventory.products pr JOIN inventory.pools p ON p.product_id = pr.id
       GROUP BY pr.id, pr.capacity HAVING sum(p.allocated) > pr.capacity`,
  },
  {
    name: 'ota pool held equals its reservations on hold',
    sql: `
      SELECT p.id AS pool_id, p.product_id, p.partner_id, p.held,
             COALESCE(r.on_hold, 0) AS reservations_on_hold
        FROM inventory.pools p
        LEFT JOIN (SELECT pool_id, sum(quantity) AS on_hold FROM inventory.reservations
                    WHERE status = 'ON_HOLD' GROUP BY pool_id) r ON r.pool_id = p.id
       WHERE p.channel = 'ota' AND p.partner_id <> ALL($1::uuid[])
         AND p.held <> COALESCE(r.on_hold, 0)`,
  },
  {
    name: 'every confirmed reservation has exactly its tickets',
    sql: `
      SELECT r.id AS reservation_id, r.status, r.quantity, count(t.id) AS tickets,
             count(DISTINCT t.unit_index) AS distinct_units
        FROM inventory.reservations r
        LEFT JOIN issuance.tickets t ON t.reservation_id = r.id
       WHERE r.partner_id <> ALL($1::uuid[])
       GROUP BY r.id, r.status, r.quantity
      HAVING (r.status = 'CONFIRMED' AND (count(t.id) <> r.quantity OR count(DISTINCT t.unit_index) <> r.quantity))
          OR (r.status <> 'CONFIRMED' AND count(t.id) > 0)`,
  },
  {
    name: 'confirmed tickets match the reserved customer types and partner',
    sql: `
      WITH wanted AS (
        SELECT r.id, r.partner_id, r.product_id, i->>'customer_type' AS customer_type,
               sum((i->>'quantity')::int) AS quantity
          FROM inventory.reservations r, jsonb_array_elements(r.items) i
         WHERE r.status = 'CONFIRMED' AND r.partner_id <> ALL($1::uuid[])
         GROUP BY 1, 2, 3, 4),
      got AS (
        SELECT reservation_id AS id, customer_type, count(*) AS quantity,
               bool_and(partner_id IS NOT DISTINCT FROM NULL) AS no_partner,
               array_agg(DISTINCT partner_id) AS partners, array_agg(DISTINCT product_id) AS products,
               array_agg(DISTINCT channel) AS channels
          FROM issuance.tickets WHERE reservation_id IS NOT NULL GROUP BY 1, 2)
      SELECT w.id AS reservation_id, w.customer_type, w.quantity AS reserved, g.quantity AS issued,
             g.partners, g.products, g.channels
        FROM wanted w LEFT JOIN got g ON g.id = w.id AND g.customer_type = w.customer_type
       WHERE g.quantity IS DISTINCT FROM w.quantity OR g.partners <> ARRAY[w.partner_id]
          OR g.products <> ARRAY[w.product_id] OR g.channels <> ARRAY['ota']`,
  },
  {
    name: 'ota and direct pools sold equal their live tickets',
    sql: `
      SELECT p.id AS pool_id, p.product_id, p.channel, p.partner_id, p.sold,
             COALESCE(t.live, 0) AS live_tickets
        FROM inventory.pools p
        LEFT JOIN (SELECT partner_id, product_id, channel, count(*) AS live FROM issuance.tickets
                    WHERE status IN ('ACTIVE', 'USED') AND channel IN ('ota', 'direct')
                    GROUP BY 1, 2, 3) t
          ON t.product_id = p.product_id AND t.channel = p.channel
         AND t.partner_id IS NOT DISTINCT FROM p.partner_id
       WHERE p.channel IN ('ota', 'direct') AND (p.partner_id IS NULL OR p.partner_id <> ALL($1::uuid[]))
         AND p.sold <> COALESCE(t.live, 0)`,
  },
  {
    name: 'reseller pools equal their batches and tickets',
    sql: `
      SELECT p.id AS pool_id, p.product_id, p.partner_id, p.held, p.sold,
             COALESCE(t.pre_generated, 0) + COALESCE(b.pending, 0) AS expected_held,
             COALESCE(t.sold, 0) AS expected_sold
        FROM inventory.pools p
        LEFT JOIN (SELECT partner_id, product_id,
                          count(*) FILTER (WHERE status = 'PRE_GENERATED') AS pre_generated,
                          count(*) FILTER (WHERE status IN ('ACTIVE', 'USED')) AS sold
                     FROM issuance.tickets WHERE channel = 'reseller' GROUP BY 1, 2) t
          ON t.partner_id = p.partner_id AND t.product_id = p.product_id
        LEFT JOIN (SELECT partner_id, product_id, sum(quantity - generated) AS pending
                     FROM issuance.batches WHERE status IN ('QUEUED', 'RUNNING') GROUP BY 1, 2) b
          ON b.partner_id = p.partner_id AND b.product_id = p.product_id
       WHERE p.channel = 'reseller' AND p.partner_id <> ALL($1::uuid[])
         AND (p.held <> COALESCE(t.pre_generated, 0) + COALESCE(b.pending, 0) OR p.sold <> COALESCE(t.sold, 0))`,
  },
  {
    name: 'every batch has exactly its generated tickets',
    sql: `
      SELECT b.batch_id, b.status, b.quantity, b.generated, count(t.id) AS tickets,
             min(t.batch_seq) AS first_seq, max(t.batch_seq) AS last_seq
        FROM issuance.batches b LEFT JOIN issuance.tickets t ON t.batch_id = b.batch_id
       WHERE b.partner_id <> ALL($1::uuid[])
       GROUP BY b.batch_id, b.status, b.quantity, b.generated
      HAVING count(t.id) <> b.generated
          OR (b.status = 'COMPLETED' AND (b.generated <> b.quantity OR min(t.batch_seq) <> 1
              OR max(t.batch_seq) <> b.quantity))`,
  },
  {
    name: 'every USED ticket has all entitlements redeemed',
    sql: `
      SELECT t.ticket_code, t.status, t.entitlements
        FROM issuance.tickets t
       WHERE t.status = 'USED' AND (t.partner_id IS NULL OR t.partner_id <> ALL($1::uuid[]))
         AND (jsonb_array_length(t.entitlements) = 0 OR EXISTS (
               SELECT 1 FROM jsonb_array_elements(t.entitlements) e WHERE e->>'redeemed_at' IS NULL)
             OR (SELECT count(*) FROM redemption.redemptions r WHERE r.ticket_code = t.ticket_code)
                <> jsonb_array_length(t.entitlements))`,
  },
  {
    name: 'a ticket whose entitlements are all redeemed is USED',
    sql: `
      SELECT t.ticket_code, t.status, count(r.function_code) AS redeemed,
             jsonb_array_length(t.entitlements) AS entitlements
        FROM issuance.tickets t JOIN redemption.redemptions r ON r.ticket_code = t.ticket_code
       GROUP BY t.ticket_code, t.status, t.entitlements
      HAVING count(r.function_code) = jsonb_array_length(t.entitlements) AND t.status <> 'USED'`,
  },
  {
    name: 'every redemption is of a known ticket and one of its entitlements',
    sql: `
      SELECT r.ticket_code, r.function_code
        FROM redemption.redemptions r
        LEFT JOIN issuance.tickets t ON t.ticket_code = r.ticket_code
       WHERE t.id IS NULL OR NOT EXISTS (
               SELECT 1 FROM jsonb_array_elements(t.entitlements) e WHERE e->>'function_code' = r.function_code)`,
  },
  {
    name: 'no ticket without its partner',
    sql: `
      SELECT t.ticket_code, t.channel, t.partner_id
        FROM issuance.tickets t
       WHERE (t.channel = 'direct') <> (t.partner_id IS NULL)
          OR (t.partner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM gateway.partners g WHERE g.id = t.partner_id))`,
  },
  {
    name: 'no pool, reservation or batch without its partner',
    sql: `
      SELECT 'pool' AS kind, id::text AS id, partner_id FROM inventory.pools
       WHERE partner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM gateway.partners g WHERE g.id = partner_id)
      UNION ALL
      SELECT 'reservation', id::text, partner_id FROM inventory.reservations
       WHERE NOT EXISTS (SELECT 1 FROM gateway.partners g WHERE g.id = partner_id)
      UNION ALL
      SELECT 'batch', batch_id::text, partner_id FROM issuance.batches
       WHERE NOT EXISTS (SELECT 1 FROM gateway.partners g WHERE g.id = partner_id)`,
  },
];

export const INVARIANT_NAMES = CHECKS.map((c) => c.name);

/** Runs every check once, in one read-only repeatable-read snapshot so the checks see one moment. */
export async function checkInvariants(pool: Pool, opts: InvariantOptions = {}): Promise<InvariantResult[]> {
  const client = await pool.connect();
  const results: InvariantResult[] = [];
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const check of CHECKS) {
      await client.query('SAVEPOINT c');
      try {
        const params = check.sql.includes('$1') ? [opts.excludePartners ?? []] : [];
        const { rows } = await client.query(`${check.sql} LIMIT 20`, params);
        results.push({ name: check.name, ok: rows.length === 0, violations: rows });
        await client.query('RELEASE SAVEPOINT c');
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT c');
        results.push({ name: check.name, ok: false, violations: [], error: (err as Error).message });
      }
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  return results;
}

/** Retries until every invariant holds (the system has settled) or `timeoutMs` passes; returns the last results. */
export async function waitForInvariants(
  pool: Pool,
  opts: InvariantOptions & { timeoutMs?: number; intervalMs?: number } = {},
): Promise<InvariantResult[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const results = await checkInvariants(pool, opts);
    if (results.every((r) => r.ok) || Date.now() > deadline) return results;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/** A readable summary of the broken invariants (empty when all hold). */
export function describeViolations(results: InvariantResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => `${r.name}: ${r.error ?? JSON.stringify(r.violations.slice(0, 5))}`)
    .join('\n');
}
