// No oversell under concurrency, in one instance and across two, with a control run that uses the naive
// read-then-write hold and shows the oversell the conditional update prevents. Then a mixed concurrent
// workload after which the ledger rebuilds every pool's counters exactly.
// First: reservations.ts must load before pools.ts (see controls.ts) for the mock to reach the holds.
import '../src/domain/reservations.ts';
import { randomUUID } from 'node:crypto';
import { createCommandClient } from '@cruise/shared';
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { confirmHold } from '../src/domain/reservations.ts';
import { checkLedger, expireHolds, rebuildPoolCounters, setAllocation } from '../src/index.ts';
import { withNaiveHolds } from './controls.ts';
import {
  CALLER_TIMEOUT_MS,
  createReservation,
  newPartner,
  nextDate,
  partnerHeaders,
  type RunningInventory,
  startInventory,
} from './harness.ts';

// The control runs swap in the naive read-then-write hold (test code, see controls.ts).
vi.mock('../src/domain/pools.ts', async (importOriginal) =>
  (await import('./controls.ts')).naivePools(await importOriginal()),
);

let ctx: TestContext;
let a: RunningInventory;
let b: RunningInventory;

beforeAll(async () => {
  ctx = await createTestContext();
  a = await startInventory(ctx.config);
  b = await startInventory(ctx.config);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await ctx?.cleanup();
});

/** A partner's reservation sent to `target`'s NATS subjects (issuance sends it so for the REST route). */
function reserveOn(target: RunningInventory, partnerId: string, payload: unknown, key?: string) {
  return createReservation(target.deps.nc, target.config, partnerId, payload, key);
}

/**
 * 40 concurrent single-unit reservations sent through `instances` (the queue group spreads them over every
 * instance on the same subjects: a control's naive instances are started apart); returns the status codes.
 * `mixed`: every other one is the OCTO adapter's hold (`holdReservation`, one transaction per hold) instead
 * of the partner's REST hold. An instance decides the REST holds on one pool in groups, one group at a
 * time, so within one instance a naive admission can only race the holds that take another path.
 */
async function race(instances: RunningInventory[], partnerId: string, mixed = false): Promise<number[]> {
  const visit_date = nextDate(ctx.config, 'weekday');
  // Every hold settles before this returns, so no hold of a failed run is still writing during the next test.
  const settled = await Promise.allSettled(
    Array.from({ length: 40 }, async (_, i) => {
      const target = instances[i % instances.length]!;
      const items = [{ customer_type: 'adult', quantity: 1 }];
      if (!mixed || i % 2 === 0) return reserveOn(target, partnerId, { product_id: 106, visit_date, items });
      const reply = await createCommandClient(
        target.deps.nc,
        target.config.NATS_PREFIX,
        CALLER_TIMEOUT_MS,
      ).send('holdReservation', {
        ref: randomUUID(),
        partner_id: partnerId,
        product_id: 106,
        visit_date,
        reseller_reference: null,
        items,
        hold_seconds: 3600,
      });
      return reply.ok
        ? { statusCode: 201, json: () => reply.reservation }
        : { statusCode: 409, json: () => reply };
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const responses = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const r of responses) {
    if (r.statusCode !== 201) expect(r.json().code).toBe('INSUFFICIENT_INVENTORY');
  }
  return responses.map((r) => r.statusCode);
}

async function heldReservations(partnerId: string): Promise<number> {
  const { rows } = await a.deps.pool.query(
    `SELECT COALESCE(sum(quantity), 0)::int AS n FROM inventory.reservations WHERE partner_id = $1 AND status = 'ON_HOLD'`,
    [partnerId],
  );
  return rows[0].n;
}

describe('40 concurrent holds against 10 available', () => {
  it('control: the naive read-then-write hold oversells (grouped and single holds in one instance)', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    await afterRepair(partnerId, async () => {
      // The first two naive moves (a group's admission, an OCTO hold's) both read before either writes.
      const codes = await withNaiveHolds(() => race([a], partnerId, true), { lineUp: barrier(2) });
      const won = codes.filter((c) => c === 201).length;
      expect(won).toBeGreaterThan(10);
      expect(await heldReservations(partnerId)).toBeGreaterThan(10);
      // The counters lost updates, and the ledger shows it.
      const check = await checkLedger(a.deps.pool);
      expect(check.ok).toBe(false);
      expect(check.mismatches.some((m) => m.partner_id === partnerId)).toBe(true);
    });
  });

  it('one instance: exactly 10 succeed (grouped and single holds)', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const codes = await race([a], partnerId, true);
    expect(codes.filter((c) => c === 201)).toHaveLength(10);
    expect(codes.filter((c) => c === 409)).toHaveLength(30);
    expect(await heldReservations(partnerId)).toBe(10);
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });

  it('control with two instances: the naive grouped hold oversells', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    await afterRepair(partnerId, async () => {
      // An instance runs one group per pool at a time, so the first two naive admissions to reach the
      // line are one group of each instance: both read the same counters before either writes.
      const codes = await withNaiveHolds(() => race([a, b], partnerId), { lineUp: barrier(2) });
      expect(codes.filter((c) => c === 201).length).toBeGreaterThan(10);
      expect(await heldReservations(partnerId)).toBeGreaterThan(10);
    });
  });

  it('two instances: exactly 10 succeed', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const codes = await race([a, b], partnerId);
    expect(codes.filter((c) => c === 201)).toHaveLength(10);
    expect(await heldReservations(partnerId)).toBe(10);
    const { rows } = await a.deps.pool.query(
      `SELECT allocated, held, sold FROM inventory.pools WHERE partner_id = $1 AND channel = 'ota'`,
      [partnerId],
    );
    expect(rows[0]).toEqual({ allocated: 10, held: 10, sold: 0 });
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });
});

describe('Idempotency-Key across instances', () => {
  it('8 concurrent duplicates split over two instances hold once', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 108, channel: 'ota', allocated: 10 }]);
    const key = `key-${randomUUID()}`;
    const payload = {
      product_id: 108,
      visit_date: nextDate(ctx.config, 'weekday'),
      items: [{ customer_type: 'vip', quantity: 2 }],
    };
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => reserveOn([a, b][i % 2]!, partnerId, payload, key)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(await heldReservations(partnerId)).toBe(2);
  });
});

/** Runs a control and repairs its partner's pools afterwards, also when it fails (else later tests inherit its oversell). */
async function afterRepair(partnerId: string, control: () => Promise<void>) {
  try {
    await control();
  } finally {
    await repairPools(partnerId);
  }
}

/**
 * After a control run: the naive run's reservations are cancelled in the database and the partner's
 * pool is removed from the ledger check, so later tests check a clean ledger.
 */
async function repairPools(partnerId: string) {
  await a.deps.pool.query(
    `WITH p AS (SELECT id FROM inventory.pools WHERE partner_id = $1)
     , r AS (DELETE FROM inventory.reservations WHERE pool_id IN (SELECT id FROM p))
     , l AS (DELETE FROM inventory.inventory_ledger WHERE pool_id IN (SELECT id FROM p))
     SELECT 1`,
    [partnerId],
  );
  await a.deps.pool.query('DELETE FROM inventory.pools WHERE partner_id = $1', [partnerId]);
}

describe('ledger after a mixed concurrent workload', () => {
  it('rebuilds every pool’s counters exactly', async () => {
    const partners = await Promise.all(
      [0, 1, 2].map(() =>
        newPartner(a.deps, [
          { productId: 107, channel: 'ota', allocated: 30 },
          { productId: 107, channel: 'reseller', allocated: 20 },
        ]),
      ),
    );
    const commands = createCommandClient(a.deps.nc, ctx.config.NATS_PREFIX, CALLER_TIMEOUT_MS);
    const visit_date = nextDate(ctx.config, 'weekend');
    const instances = [a, b];
    const pick = (i: number) => instances[i % 2]!;
    const work: Promise<unknown>[] = [];
    let n = 0;
    for (const partnerId of partners) {
      for (let i = 0; i < 12; i++) {
        const target = pick(n++);
        work.push(
          (async () => {
            const res = await createReservation(target.deps.nc, target.config, partnerId, {
              product_id: 107,
              visit_date,
              items: [{ customer_type: 'adult', quantity: 1 + (i % 4) }],
            });
            if (res.statusCode !== 201) return;
            const reservation = res.json();
            if (i % 3 === 0) {
              await target.app.inject({
                method: 'POST',
                url: `/api/ota/reservations/${reservation.reservation_id}/cancel`,
                headers: partnerHeaders(ctx.config, partnerId),
              });
            } else if (i % 3 === 1) {
              const paymentId = `pay_${randomUUID()}`;
              await Promise.all([
                confirmHold(a.deps.pool, {
                  reservationId: reservation.reservation_id,
                  paymentId,
                  amount: reservation.total,
                }),
                commands.send('confirmHold', {
                  reservation_id: reservation.reservation_id,
                  payment_id: paymentId,
                  amount: reservation.total,
                }),
              ]);
            }
          })(),
        );
      }
      const batchId = randomUUID();
      work.push(
        (async () => {
          const held = await commands.send('holdBatch', {
            batch_id: batchId,
            partner_id: partnerId,
            product_id: 107,
            quantity: 6,
          });
          if (!held.ok) return;
          await Promise.all(
            [0, 1, 2].map((k) =>
              commands.send('sellHeld', {
                ref: `${batchId}:${k}`,
                partner_id: partnerId,
                product_id: 107,
                channel: 'reseller',
                customer_type: 'child',
                date: visit_date,
              }),
            ),
          );
          await commands.send('release', {
            ref: `${batchId}:unused`,
            partner_id: partnerId,
            product_id: 107,
            channel: 'reseller',
            from: 'held',
            quantity: 2,
            reason: 'expire',
          });
          await commands.send('release', {
            ref: `${batchId}:0:cancel`,
            partner_id: partnerId,
            product_id: 107,
            channel: 'reseller',
            from: 'sold',
            quantity: 1,
            reason: 'cancel',
          });
        })(),
      );
      work.push(setAllocation(a.deps.pool, { productId: 107, channel: 'ota', partnerId, allocated: 40 }));
    }
    for (let i = 0; i < 6; i++) {
      work.push(
        commands.send('directSale', {
          order_id: randomUUID(),
          product_id: 107,
          visit_date,
          items: [{ customer_type: 'family', quantity: 2 }],
        }),
      );
    }
    // Holds that already expired, swept while the rest runs.
    await a.deps.pool.query(
      `UPDATE inventory.reservations SET expires_at = now() - interval '1 second' WHERE status = 'ON_HOLD'`,
    );
    work.push(expireHolds(a.deps.pool, new Date()), expireHolds(b.deps.pool, new Date()));
    await Promise.all(work);
    await expireHolds(a.deps.pool, new Date(Date.now() + 2 * 86_400_000));

    const check = await checkLedger(a.deps.pool);
    expect(check.mismatches).toEqual([]);
    expect(check.ok).toBe(true);
    // Independently of the ledger: ota pools hold nothing once every hold expired, and each sold counter
    // equals the confirmed reservations.
    const balances = await rebuildPoolCounters(a.deps.pool);
    for (const partnerId of partners) {
      const ota = balances.find((p) => p.partner_id === partnerId && p.channel === 'ota')!;
      const reseller = balances.find((p) => p.partner_id === partnerId && p.channel === 'reseller')!;
      const { rows } = await a.deps.pool.query(
        `SELECT COALESCE(sum(quantity) FILTER (WHERE status = 'CONFIRMED'), 0)::int AS sold,
                COALESCE(sum(quantity) FILTER (WHERE status = 'ON_HOLD'), 0)::int AS held
         FROM inventory.reservations WHERE partner_id = $1`,
        [partnerId],
      );
      expect(ota.counters).toEqual({ allocated: 40, held: rows[0].held, sold: rows[0].sold });
      expect(ota.counters.held).toBe(0);
      expect(reseller.counters).toEqual({ allocated: 20, held: 1, sold: 2 });
    }
    const direct = balances.find((p) => p.channel === 'direct' && p.product_id === 107)!;
    expect(direct.counters.sold).toBe(12);
  });
});
