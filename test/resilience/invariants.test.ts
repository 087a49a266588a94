// The invariant checker itself: silent on a consistent database, and each check names the row that
// breaks it when the data is corrupted on purpose (a checker that never fails would prove nothing).
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext } from '@cruise/testkit';
import type { Pool } from 'pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, INVARIANT_NAMES } from './invariants.ts';

let ctx: TestContext;
let db: Pool;
const partnerId = randomUUID();
let poolId: string;
const reservationId = randomUUID();

beforeAll(async () => {
  ctx = await createTestContext();
  db = new pg.Pool({ connectionString: ctx.env.DATABASE_URL, max: 3 });
  // A consistent little world: a partner, its ota pool (allocated 10, 2 sold), a confirmed reservation
  // of 2 units and its two tickets.
  await db.query(`INSERT INTO gateway.partners (id, name) VALUES ($1, 'Checker partner')`, [partnerId]);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO inventory.pools (product_id, channel, partner_id, allocated, sold) VALUES (106, 'ota', $1, 10, 2)
     RETURNING id`,
    [partnerId],
  );
  poolId = rows[0]!.id;
  await db.query(
    `INSERT INTO inventory.inventory_ledger (pool_id, kind, allocated_delta, sold_delta, reference)
     VALUES ($1, 'allocate', 10, 0, 'checker:allocate'), ($1, 'sell', 0, 2, 'checker:sell')`,
    [poolId],
  );
  await db.query(
    `INSERT INTO inventory.reservations (id, partner_id, pool_id, product_id, visit_date, day_type, status, items, quantity,
       total_amount, currency, expires_at, confirmed_at, payment_id)
     VALUES ($1, $2, $3, 106, current_date + 1, 'weekday', 'CONFIRMED',
       '[{"customer_type":"adult","quantity":2,"unit_price":{"amount":28800,"currency":"USD"}}]', 2, 57600, 'USD',
       now() + interval '1 day', now(), 'pay-1')`,
    [reservationId, partnerId, poolId],
  );
  for (const unit of [0, 1]) {
    await db.query(
      `INSERT INTO issuance.tickets (ticket_code, partner_id, channel, product_id, status, reservation_id, unit_index,
         customer_type, entitlements)
       VALUES ($1, $2, 'ota', 106, 'ACTIVE', $3, $4, 'adult', '[{"function_code":"FERRY","redeemed_at":null}]')`,
      [`CHECKER${unit}`, partnerId, reservationId, unit],
    );
  }
}, 60_000);

afterAll(async () => {
  await db?.end();
  await ctx?.cleanup();
});

async function failing(): Promise<string[]> {
  return (await checkInvariants(db)).filter((r) => !r.ok).map((r) => r.name);
}

/** Applies a corruption, returns the checks that fail, and undoes it. */
async function withCorruption(apply: string, undo: string): Promise<string[]> {
  await db.query(apply);
  try {
    return await failing();
  } finally {
    await db.query(undo);
  }
}

describe('invariant checker', () => {
  it('finds nothing wrong with a consistent database', async () => {
    const results = await checkInvariants(db);
    expect(results.map((r) => r.name)).toEqual(INVARIANT_NAMES);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('catches pool counters that disagree with the ledger', async () => {
    const broken = await withCorruption(
      `UPDATE inventory.pools SET held = held + 1 WHERE id = '${poolId}'`,
      `UPDATE inventory.pools SET held = held - 1 WHERE id = '${poolId}'`,
    );
    expect(broken).toContain('pool counters equal the ledger');
    expect(broken).toContain('ota pool held equals its reservations on hold');
  });

  it('catches a confirmed reservation missing a ticket', async () => {
    const broken = await withCorruption(
      `UPDATE issuance.tickets SET reservation_id = NULL WHERE ticket_code = 'CHECKER1'`,
      `UPDATE issuance.tickets SET reservation_id = '${reservationId}' WHERE ticket_code = 'CHECKER1'`,
    );
    expect(broken).toContain('every confirmed reservation has exactly its tickets');
  });

  it('catches a USED ticket with an entitlement never redeemed', async () => {
    const broken = await withCorruption(
      `UPDATE issuance.tickets SET status = 'USED' WHERE ticket_code = 'CHECKER0'`,
      `UPDATE issuance.tickets SET status = 'ACTIVE' WHERE ticket_code = 'CHECKER0'`,
    );
    expect(broken).toContain('every USED ticket has all entitlements redeemed');
  });

  it('catches a ticket whose partner does not exist', async () => {
    const stranger = randomUUID();
    const broken = await withCorruption(
      `INSERT INTO issuance.tickets (ticket_code, partner_id, channel, product_id, status, entitlements)
       VALUES ('ORPHAN', '${stranger}', 'reseller', 106, 'PRE_GENERATED', '[]')`,
      `DELETE FROM issuance.tickets WHERE ticket_code = 'ORPHAN'`,
    );
    expect(broken).toContain('no ticket without its partner');
  });
});
