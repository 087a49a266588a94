// Grouped holds (group commit per pool): the one-statement admission against its naive control, two
// groups on one row, many concurrent holds through two instances, Idempotency-Key duplicates inside and
// across groups, and a group whose transaction fails falling back to one hold at a time.
import { randomUUID } from 'node:crypto';
import { type Pool, withTransaction } from '@cruise/shared';
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdTogether, type PartnerHold } from '../src/domain/partner-holds.ts';
import { admitHolds, findPool } from '../src/domain/pools.ts';
import { checkLedger } from '../src/index.ts';
import { readThenAdmit } from './controls.ts';
import {
  type Answer,
  createReservation,
  newPartner,
  nextDate,
  type RunningInventory,
  startInventoryApart,
} from './harness.ts';

let ctx: TestContext;
let a: RunningInventory;
let b: RunningInventory;

// Two instances answering the same subjects, each with a window wide enough that concurrent holds on a
// pool always meet in groups (the default 1 ms window groups them only as load allows).
beforeAll(async () => {
  ctx = await createTestContext();
  const config = { ...ctx.config, HOLD_GROUP_WINDOW_MS: 200, HOLD_GROUP_MAX_SIZE: 16 };
  a = await startInventoryApart(config, 'grouped');
  b = await startInventoryApart(config, 'grouped');
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await ctx?.cleanup();
});

const adults = (quantity: number) => [{ customer_type: 'adult', quantity }];

async function otaPool(partnerId: string) {
  const { rows } = await a.deps.pool.query<{ allocated: number; held: number; sold: number }>(
    `SELECT allocated, held, sold FROM inventory.pools WHERE partner_id = $1 AND channel = 'ota'`,
    [partnerId],
  );
  return rows[0]!;
}

/**
 * The partner's reservations against its ledger: every reservation has exactly one `hold` row of its
 * quantity, the ledger has no hold without its reservation, and how many transactions wrote them.
 */
async function reservationsAndLedger(partnerId: string) {
  const { rows } = await a.deps.pool.query<{
    reservations: number;
    units: number;
    matched: number;
    orphan_holds: number;
    transactions: number;
  }>(
    `WITH r AS (SELECT r.id, r.quantity, r.xmin::text AS tx FROM inventory.reservations r
                JOIN inventory.pools p ON p.id = r.pool_id WHERE p.partner_id = $1),
          l AS (SELECT l.reference, l.held_delta FROM inventory.inventory_ledger l
                JOIN inventory.pools p ON p.id = l.pool_id WHERE p.partner_id = $1 AND l.kind = 'hold')
     SELECT (SELECT count(*) FROM r)::int AS reservations,
            (SELECT COALESCE(sum(quantity), 0) FROM r)::int AS units,
            (SELECT count(*) FROM r JOIN l ON l.reference = 'reservation:' || r.id AND l.held_delta = r.quantity)::int AS matched,
            (SELECT count(*) FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE l.reference = 'reservation:' || r.id))::int AS orphan_holds,
            (SELECT count(DISTINCT tx) FROM r)::int AS transactions`,
    [partnerId],
  );
  return rows[0]!;
}

function holdVia(
  target: RunningInventory,
  partnerId: string,
  payload: unknown,
  key?: string,
): Promise<Answer> {
  return createReservation(target.deps.nc, target.config, partnerId, payload, key);
}

/** Waits until some backend of the database is waiting for a lock (the second racer queued behind the first). */
async function untilLockWait(pool: Pool) {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('admitHolds: one statement for a group', () => {
  const requests = (quantities: number[]) =>
    quantities.map((quantity) => ({ quantity, reference: `reservation:${randomUUID()}` }));

  async function poolOf(available: number) {
    const partnerId = await newPartner(a.deps, [{ productId: 107, channel: 'ota', allocated: available }]);
    return { partnerId, poolId: (await findPool(a.deps.pool, 107, 'ota', partnerId))!.id };
  }

  it('admits in arrival order, each only if it fits in what the earlier ones left', async () => {
    const { partnerId, poolId } = await poolOf(5);
    const admissions = await withTransaction(a.deps.pool, (client) =>
      admitHolds(client, poolId, requests([4, 3, 2, 1, 1])),
    );
    expect(admissions).toEqual([
      { admitted: true, left: 1 },
      { admitted: false, left: 1 },
      { admitted: false, left: 1 },
      { admitted: true, left: 0 },
      { admitted: false, left: 0 },
    ]);
    expect(await otaPool(partnerId)).toEqual({ allocated: 5, held: 5, sold: 0 });
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });

  it('control: a naive read-then-write admission lets two groups oversell', async () => {
    const { partnerId, poolId } = await poolOf(10);
    const bothRead = barrier(2);
    // Two groups on one pool, each in its own transaction, both writing after both have read.
    const results = await Promise.all(
      [0, 1].map(() =>
        withTransaction(a.deps.pool, (client) => readThenAdmit(client, poolId, requests([6, 2]), bothRead)),
      ),
    );
    // Both groups admitted 6 + 2 of the same 10 units.
    expect(results.map((group) => group.map((r) => r.admitted))).toEqual([
      [true, true],
      [true, true],
    ]);
    expect((await otaPool(partnerId)).held).toBe(8); // lost update: 16 admitted, 8 counted
    const check = await checkLedger(a.deps.pool);
    expect(check.mismatches.map((m) => m.partner_id)).toContain(partnerId);
    await a.deps.pool.query(
      `WITH p AS (SELECT id FROM inventory.pools WHERE partner_id = $1)
       DELETE FROM inventory.inventory_ledger WHERE pool_id IN (SELECT id FROM p)`,
      [partnerId],
    );
    await a.deps.pool.query('DELETE FROM inventory.pools WHERE partner_id = $1', [partnerId]);
  });

  it('a group queued behind another on the row lock admits only what the first left', async () => {
    const { partnerId, poolId } = await poolOf(10);
    // The first group takes 6 and keeps its transaction open; the second queues on the row, then the
    // first commits: the second's statement decides on the committed counters (4 left), not on 10.
    let release!: () => void;
    const committed = new Promise<void>((r) => {
      release = r;
    });
    let firstAdmitted!: () => void;
    const firstIn = new Promise<void>((r) => {
      firstAdmitted = r;
    });
    const first = withTransaction(a.deps.pool, async (client) => {
      const admissions = await admitHolds(client, poolId, requests([6]));
      firstAdmitted();
      await committed;
      return admissions;
    });
    await firstIn;
    const second = withTransaction(a.deps.pool, (client) => admitHolds(client, poolId, requests([6, 3, 1])));
    await untilLockWait(a.deps.pool);
    release();
    expect(await first).toEqual([{ admitted: true, left: 4 }]);
    expect(await second).toEqual([
      { admitted: false, left: 4 },
      { admitted: true, left: 1 },
      { admitted: true, left: 0 },
    ]);
    expect(await otaPool(partnerId)).toEqual({ allocated: 10, held: 10, sold: 0 });
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });
});

describe('grouped holds through two instances', () => {
  it('60 concurrent one-unit holds against 25 available: exactly 25 succeed, each with its rows', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 25 }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        holdVia([a, b][i % 2]!, partnerId, { product_id: 106, visit_date, items: adults(1) }),
      ),
    );
    const held = answers.filter((r) => r.statusCode === 201);
    expect(held).toHaveLength(25);
    for (const r of answers.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(r.json()).toMatchObject({ code: 'INSUFFICIENT_INVENTORY', available: 0 });
    }
    expect(new Set(held.map((r) => r.json().reservation_id)).size).toBe(25);
    expect(await otaPool(partnerId)).toEqual({ allocated: 25, held: 25, sold: 0 });
    const rows = await reservationsAndLedger(partnerId);
    expect(rows).toMatchObject({ reservations: 25, units: 25, matched: 25, orphan_holds: 0 });
    // They were decided in groups: fewer transactions than reservations.
    expect(rows.transactions).toBeLessThan(25);
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });

  it('holds of 1 to 4 units: each refused one did not fit in what was left, and the pool is exact', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 30 }]);
    const visit_date = nextDate(ctx.config, 'weekend');
    const quantities = Array.from({ length: 40 }, (_, i) => 1 + (i % 4));
    const answers = await Promise.all(
      quantities.map((q, i) =>
        holdVia([a, b][i % 2]!, partnerId, { product_id: 106, visit_date, items: adults(q) }),
      ),
    );
    let units = 0;
    answers.forEach((r, i) => {
      if (r.statusCode === 201) units += r.json().quantity;
      else expect(r.json().available).toBeLessThan(quantities[i]!);
    });
    expect(units).toBeLessThanOrEqual(30);
    const pool = await otaPool(partnerId);
    expect(pool.held).toBe(units);
    const rows = await reservationsAndLedger(partnerId);
    expect(rows).toMatchObject({
      reservations: answers.filter((r) => r.statusCode === 201).length,
      units,
      orphan_holds: 0,
    });
    expect(rows.matched).toBe(rows.reservations);
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });

  it('one Idempotency-Key sent 12 times at once, to both instances, holds once', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 108, channel: 'ota', allocated: 20 }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const key = `key-${randomUUID()}`;
    const payload = { product_id: 108, visit_date, items: [{ customer_type: 'vip', quantity: 2 }] };
    // Others on the same pool at the same time, so the duplicates share groups with other holds.
    const [duplicates, others] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, (_, i) => holdVia([a, b][i % 2]!, partnerId, payload, key))),
      Promise.all(
        Array.from({ length: 6 }, (_, i) => holdVia([a, b][i % 2]!, partnerId, payload, `other-${i}-${key}`)),
      ),
    ]);
    expect(duplicates.map((r) => r.statusCode)).toEqual(Array(12).fill(201));
    expect(new Set(duplicates.map((r) => r.body)).size).toBe(1);
    expect(duplicates.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    expect(others.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    expect(await reservationsAndLedger(partnerId)).toMatchObject({ reservations: 7, units: 14, matched: 7 });
    // The same key with another body, later: refused, nothing held.
    const reused = await holdVia(a, partnerId, { ...payload, items: adults(1) }, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await otaPool(partnerId)).held).toBe(14);
  });

  it('a key repeated inside a group waits for the first: replays its hold, or is decided afresh after a refusal', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 2 }]);
    const key = `key-${randomUUID()}`;
    const hold = (quantity: number): PartnerHold => ({
      partnerId,
      key,
      body: { product_id: 106, visit_date: nextDate(ctx.config, 'weekday'), items: adults(quantity) },
      holdSeconds: 3600,
      now: new Date(),
    });
    const stored = async () =>
      (await a.deps.pool.query('SELECT 1 FROM inventory.idempotency_keys WHERE scope = $1', [partnerId]))
        .rowCount;
    // 3 units against 2: the first is refused, so the key stays unused and its duplicate is refused afresh.
    const refused = await holdTogether(a.deps.pool, [hold(3), hold(3)]);
    expect(refused.map((r) => r.status === 'fulfilled' && r.value.ok)).toEqual([false, false]);
    expect(await stored()).toBe(0);
    // 2 against 2: the first holds, the duplicate replays it.
    const [first, second] = await holdTogether(a.deps.pool, [hold(2), hold(2)]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { ok: true, replayed: false } });
    expect(second).toMatchObject({ status: 'fulfilled', value: { ok: true, replayed: true } });
    const reservationOf = (r: typeof first) =>
      r?.status === 'fulfilled' && r.value.ok ? r.value.reservation.reservation_id : undefined;
    expect(reservationOf(second)).toBe(reservationOf(first));
    expect(await stored()).toBe(1);
    expect(await otaPool(partnerId)).toEqual({ allocated: 2, held: 2, sold: 0 });
  });
});

describe('a group whose transaction fails', () => {
  /**
   * Runs `fn` with a deferred trigger doing `action` at the COMMIT of any transaction that wrote more
   * than one reservation (a group of two or more; a hold alone commits).
   */
  async function atGroupCommit<T>(action: string, fn: () => Promise<T>): Promise<T> {
    await a.deps.pool.query(`
      CREATE FUNCTION inventory.at_group_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM inventory.reservations WHERE xmin::text = pg_current_xact_id()::xid::text) > 1
        THEN ${action}; END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER at_group_commit AFTER INSERT ON inventory.reservations
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION inventory.at_group_commit();
    `);
    try {
      return await fn();
    } finally {
      await a.deps.pool.query(`
        DROP TRIGGER at_group_commit ON inventory.reservations;
        DROP FUNCTION inventory.at_group_commit();
      `);
    }
  }

  async function holdsAtOnce(productId: number, allocated: number, count: number) {
    const partnerId = await newPartner(a.deps, [{ productId, channel: 'ota', allocated }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        holdVia([a, b][i % 2]!, partnerId, { product_id: productId, visit_date, items: adults(1) }),
      ),
    );
    return { partnerId, answers };
  }

  it('refused by the server at its COMMIT: retried one hold at a time', async () => {
    const { partnerId, answers } = await atGroupCommit("RAISE EXCEPTION 'refused at commit'", () =>
      holdsAtOnce(108, 9, 16),
    );
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(9);
    for (const r of answers.filter((r) => r.statusCode !== 201)) {
      expect(r.json().code).toBe('INSUFFICIENT_INVENTORY');
    }
    expect(await otaPool(partnerId)).toEqual({ allocated: 9, held: 9, sold: 0 });
    expect(await reservationsAndLedger(partnerId)).toMatchObject({ reservations: 9, transactions: 9 });
  });

  it('its connection lost at its COMMIT: its holds fail and are not retried (they may have committed)', async () => {
    const { partnerId, answers } = await atGroupCommit('PERFORM pg_terminate_backend(pg_backend_pid())', () =>
      holdsAtOnce(108, 50, 16),
    );
    const held = answers.filter((r) => r.statusCode === 201);
    const failed = answers.filter((r) => r.statusCode !== 201);
    // Groups of two or more lost their commit; a retry would have held them one by one.
    expect(failed.length).toBeGreaterThan(0);
    for (const r of failed) expect(r.statusCode).toBe(503);
    // Here the server died before committing: nothing of theirs exists, and nothing was held twice.
    expect(await reservationsAndLedger(partnerId)).toMatchObject({
      reservations: held.length,
      orphan_holds: 0,
    });
    expect((await otaPool(partnerId)).held).toBe(held.length);
  });

  it('is retried one hold at a time: every valid hold is held, none fails', async () => {
    // A trigger refusing any statement that writes more than one reservation: every group of two or
    // more fails at its insert (after its pool update), as a constraint or a deadlock would.
    await a.deps.pool.query(`
      CREATE FUNCTION inventory.one_reservation_per_statement() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM written) > 1 THEN RAISE EXCEPTION 'one reservation per statement'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER one_reservation_per_statement AFTER INSERT ON inventory.reservations
        REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION inventory.one_reservation_per_statement();
    `);
    try {
      const partnerId = await newPartner(a.deps, [{ productId: 107, channel: 'ota', allocated: 12 }]);
      const visit_date = nextDate(ctx.config, 'weekday');
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          holdVia([a, b][i % 2]!, partnerId, { product_id: 107, visit_date, items: adults(1) }),
        ),
      );
      expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(12);
      for (const r of answers.filter((r) => r.statusCode !== 201)) {
        expect(r.json().code).toBe('INSUFFICIENT_INVENTORY');
      }
      expect(await otaPool(partnerId)).toEqual({ allocated: 12, held: 12, sold: 0 });
      // Every reservation was written alone (the groups rolled back, pool update included).
      expect(await reservationsAndLedger(partnerId)).toMatchObject({
        reservations: 12,
        matched: 12,
        orphan_holds: 0,
        transactions: 12,
      });
      expect((await checkLedger(a.deps.pool)).ok).toBe(true);
    } finally {
      await a.deps.pool.query(`
        DROP TRIGGER one_reservation_per_statement ON inventory.reservations;
        DROP FUNCTION inventory.one_reservation_per_statement();
      `);
    }
  });
});
