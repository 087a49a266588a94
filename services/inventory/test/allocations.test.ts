// The operator's allocations: pool shape, conflicts below held + sold and beyond capacity, and
// concurrent allocations that cannot together pass the product's capacity (with a control run).
import { randomUUID } from 'node:crypto';
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, setAllocation } from '../src/index.ts';
import { unlockedAllocation } from './controls.ts';
import {
  adminHeaders,
  createReservation,
  newPartner,
  nextDate,
  partnerHeaders,
  type RunningInventory,
  startInventory,
} from './harness.ts';

let ctx: TestContext;
let inv: RunningInventory;

beforeAll(async () => {
  ctx = await createTestContext();
  inv = await startInventory(ctx.config);
});
afterAll(async () => {
  await inv?.close();
  await ctx?.cleanup();
});

const put = (url: string, payload: unknown, headers = adminHeaders(ctx.config)) =>
  inv.app.inject({ method: 'PUT', url, headers, payload: payload as object });

async function allocatedTotal(productId: number): Promise<number> {
  const { rows } = await inv.deps.pool.query(
    'SELECT COALESCE(sum(allocated), 0)::int AS n FROM inventory.pools WHERE product_id = $1',
    [productId],
  );
  return rows[0].n;
}

describe('PUT allocations', () => {
  it('sets a partner pool and the direct pool', async () => {
    const partnerId = randomUUID();
    const res = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 107,
      channel: 'ota',
      allocated: 30,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      product_id: 107,
      channel: 'ota',
      partner_id: partnerId,
      allocated: 30,
      held: 0,
      sold: 0,
      available: 30,
    });
    const lower = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 107,
      channel: 'ota',
      allocated: 12,
    });
    expect(lower.json()).toMatchObject({ allocated: 12, available: 12 });
    const direct = await put('/api/admin/direct/allocations', { product_id: 107, allocated: 4000 });
    expect(direct.statusCode).toBe(200);
    expect(direct.json()).toMatchObject({
      product_id: 107,
      channel: 'direct',
      partner_id: null,
      allocated: 4000,
    });
    const { rows } = await inv.deps.pool.query(
      `SELECT l.allocated_delta FROM inventory.inventory_ledger l JOIN inventory.pools p ON p.id = l.pool_id
       WHERE p.partner_id = $1 ORDER BY l.id`,
      [partnerId],
    );
    expect(rows.map((r) => r.allocated_delta)).toEqual([30, -18]);
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });

  it('refuses below held + sold and beyond capacity with ALLOCATION_CONFLICT', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const reserved = await createReservation(inv.deps.nc, inv.config, partnerId, {
      product_id: 106,
      visit_date: nextDate(ctx.config, 'weekday'),
      items: [{ customer_type: 'adult', quantity: 6 }],
    });
    expect(reserved.statusCode).toBe(201);
    const below = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 106,
      channel: 'ota',
      allocated: 5,
    });
    expect(below.statusCode).toBe(409);
    expect(below.json().code).toBe('ALLOCATION_CONFLICT');
    const exact = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 106,
      channel: 'ota',
      allocated: 6,
    });
    expect(exact.json()).toMatchObject({ allocated: 6, held: 6, available: 0 });

    const left = 10_000 - (await allocatedTotal(106));
    const beyond = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 106,
      channel: 'reseller',
      allocated: left + 1,
    });
    expect(beyond.statusCode).toBe(409);
    expect(beyond.json().code).toBe('ALLOCATION_CONFLICT');
    const all = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 106,
      channel: 'reseller',
      allocated: left,
    });
    expect(all.statusCode).toBe(200);
    expect(await allocatedTotal(106)).toBe(10_000);
    const direct = await put('/api/admin/direct/allocations', { product_id: 106, allocated: 5001 });
    expect(direct.statusCode).toBe(409);
    expect(direct.json().code).toBe('ALLOCATION_CONFLICT');
  });

  it('needs the operator and valid input', async () => {
    const partnerId = randomUUID();
    const asPartner = await put(
      `/api/admin/partners/${partnerId}/allocations`,
      { product_id: 107, channel: 'ota', allocated: 1 },
      partnerHeaders(ctx.config, partnerId),
    );
    expect(asPartner.statusCode).toBe(401);
    const unknown = await put(`/api/admin/partners/${partnerId}/allocations`, {
      product_id: 999,
      channel: 'ota',
      allocated: 1,
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('UNKNOWN_PRODUCT');
    for (const [url, body] of [
      [`/api/admin/partners/${partnerId}/allocations`, { product_id: 107, channel: 'direct', allocated: 1 }],
      [`/api/admin/partners/${partnerId}/allocations`, { product_id: 107, channel: 'ota', allocated: -1 }],
      [`/api/admin/partners/${partnerId}/allocations`, { product_id: 107, channel: 'ota' }],
      ['/api/admin/partners/not-a-uuid/allocations', { product_id: 107, channel: 'ota', allocated: 1 }],
      ['/api/admin/direct/allocations', { product_id: 107, channel: 'ota', allocated: 1 }],
    ] as const) {
      const res = await put(url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('concurrent allocations against the capacity', () => {
  // Product 108: 10 000 capacity, 5 000 in the direct pool; partners ask for 1 000 each at once.
  it('control: without the product lock they pass the capacity together', async () => {
    const before = await allocatedTotal(108);
    const room = 10_000 - before;
    // Eight racers (the test pool has ten connections), each lined up between its read and its write.
    const racers = 8;
    const arrive = barrier(racers);
    const granted = (
      await Promise.all(
        Array.from({ length: racers }, () =>
          unlockedAllocation(
            inv.deps.pool,
            { productId: 108, partnerId: randomUUID(), allocated: 1_000 },
            arrive,
          ),
        ),
      )
    ).filter(Boolean).length;
    expect(granted * 1_000).toBeGreaterThan(room);
    expect(await allocatedTotal(108)).toBeGreaterThan(10_000);
    // Undo the control run's over-allocation so the real run starts from a valid state.
    await inv.deps.pool.query(
      `WITH p AS (SELECT id FROM inventory.pools WHERE product_id = 108 AND channel = 'ota')
       , l AS (DELETE FROM inventory.inventory_ledger WHERE pool_id IN (SELECT id FROM p))
       DELETE FROM inventory.pools WHERE id IN (SELECT id FROM p)`,
    );
  });

  it('with the product lock exactly the room is granted', async () => {
    const before = await allocatedTotal(108);
    const room = 10_000 - before;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        setAllocation(inv.deps.pool, {
          productId: 108,
          channel: 'ota',
          partnerId: randomUUID(),
          allocated: 1_000,
        }),
      ),
    );
    expect(results.filter((r) => r.ok).length).toBe(Math.floor(room / 1_000));
    expect(await allocatedTotal(108)).toBeLessThanOrEqual(10_000);
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });
});
