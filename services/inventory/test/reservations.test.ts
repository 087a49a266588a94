// Reservations: create and read alone over inventory's commands (issuance serves those two routes: it
// checks the reseller and adds the tickets), list with filters and pagination and cancel over HTTP;
// partner isolation, Idempotency-Key (sequential, different body, concurrent duplicates), and lazy expiry.
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext, walkByCursor } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/index.ts';
import {
  createReservation,
  newPartner,
  nextDate,
  partnerHeaders,
  type RunningInventory,
  readReservation,
  sleep,
  startInventory,
  startInventoryApart,
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

async function reserveVia(
  target: RunningInventory,
  partnerId: string,
  payload: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return createReservation(target.deps.nc, target.config, partnerId, payload, headers['idempotency-key']);
}

async function otaCounters(target: RunningInventory, partnerId: string, productIndex = 0) {
  const res = await target.app.inject({
    method: 'GET',
    url: '/api/ota/inventory',
    headers: partnerHeaders(ctx.config, partnerId),
  });
  return res.json().products[productIndex].channels.ota;
}

const adults = (quantity: number) => [{ customer_type: 'adult', quantity }];

describe('reservations', () => {
  it('creates, reads and cancels a reservation; cancel releases exactly what it held', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 50 }]);
    const visit_date = nextDate(ctx.config, 'weekend');
    const other = await reserveVia(inv, partnerId, { product_id: 106, visit_date, items: adults(4) });
    expect(other.statusCode).toBe(201);
    const before = Date.now();
    const res = await reserveVia(inv, partnerId, {
      product_id: 106,
      visit_date,
      reseller_reference: 'OTA-ORDER-991',
      reseller_id: null,
      items: [
        { customer_type: 'adult', quantity: 2 },
        { customer_type: 'child', quantity: 1 },
      ],
    });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      status: 'ON_HOLD',
      product_id: 106,
      visit_date,
      reseller_reference: 'OTA-ORDER-991',
      quantity: 3,
      total: { amount: 85400, currency: 'USD' },
      confirmed_at: null,
      tickets: [],
    });
    const holdMs = new Date(created.expires_at).getTime() - new Date(created.created_at).getTime();
    expect(holdMs).toBe(ctx.config.RESERVATION_HOLD_SECONDS * 1000);
    expect(new Date(created.created_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await otaCounters(inv, partnerId)).toEqual({ allocated: 50, held: 7, sold: 0, available: 43 });

    const got = await readReservation(inv.deps.nc, ctx.config, partnerId, created.reservation_id);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created);

    const cancel = await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${created.reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json().status).toBe('CANCELLED');
    expect(await otaCounters(inv, partnerId)).toEqual({ allocated: 50, held: 4, sold: 0, available: 46 });

    const again = await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${created.reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('RESERVATION_NOT_ON_HOLD');
    expect(await otaCounters(inv, partnerId)).toEqual({ allocated: 50, held: 4, sold: 0, available: 46 });
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });

  it("hides another partner's reservation behind 404 and refuses beyond availability", async () => {
    const owner = await newPartner(inv.deps, [{ productId: 107, channel: 'ota', allocated: 5 }]);
    const stranger = await newPartner(inv.deps, [{ productId: 107, channel: 'ota', allocated: 5 }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const res = await reserveVia(inv, owner, { product_id: 107, visit_date, items: adults(5) });
    expect(res.statusCode).toBe(201);
    const id = res.json().reservation_id;
    for (const r of [
      await readReservation(inv.deps.nc, ctx.config, stranger, id),
      await inv.app.inject({
        method: 'POST',
        url: `/api/ota/reservations/${id}/cancel`,
        headers: partnerHeaders(ctx.config, stranger),
      }),
    ]) {
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('NOT_FOUND');
    }
    const list = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/reservations',
      headers: partnerHeaders(ctx.config, stranger),
    });
    expect(list.json().total).toBe(0);
    const missing = await readReservation(inv.deps.nc, ctx.config, owner, randomUUID());
    expect(missing.statusCode).toBe(404);

    const more = await reserveVia(inv, owner, { product_id: 107, visit_date, items: adults(1) });
    expect(more.statusCode).toBe(409);
    expect(more.json()).toMatchObject({ code: 'INSUFFICIENT_INVENTORY', status: 409 });
    expect(more.json().detail).toBe('Only 0 units of product 107 are available in channel ota');
    // A partner with no pool for the product holds nothing either.
    const nothing = await reserveVia(inv, stranger, { product_id: 106, visit_date, items: adults(1) });
    expect(nothing.statusCode).toBe(409);
    expect(nothing.json().code).toBe('INSUFFICIENT_INVENTORY');
  });

  it('lists newest first with filters and pagination', async () => {
    const partnerId = await newPartner(inv.deps, [
      { productId: 106, channel: 'ota', allocated: 100 },
      { productId: 108, channel: 'ota', allocated: 100 },
    ]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await reserveVia(inv, partnerId, {
        product_id: i % 2 === 0 ? 106 : 108,
        visit_date,
        reseller_reference: `REF-${i}`,
        items: adults(1),
      });
      ids.push(r.json().reservation_id);
    }
    await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${ids[1]}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    const get = async (query: string) => {
      const r = await inv.app.inject({
        method: 'GET',
        url: `/api/ota/reservations${query}`,
        headers: partnerHeaders(ctx.config, partnerId),
      });
      expect(r.statusCode).toBe(200);
      return r.json();
    };
    const all = await get('');
    expect(all).toMatchObject({ page: 1, page_size: 50, total: 5, has_more: false });
    expect(all.data.map((r: { reservation_id: string }) => r.reservation_id)).toEqual([...ids].reverse());

    const page2 = await get('?page=2&page_size=2');
    expect(page2).toMatchObject({ page: 2, page_size: 2, total: 5, has_more: true });
    expect(page2.data.map((r: { reservation_id: string }) => r.reservation_id)).toEqual([ids[2], ids[1]]);
    // By cursor: the same order, every reservation once, next_cursor null on the last page.
    const walk = await walkByCursor<{ reservation_id: string }>('page_size=2', (q) => get(`?${q}`));
    expect(walk.pages).toBe(3);
    expect(walk.items.map((r) => r.reservation_id)).toEqual([...ids].reverse());
    const onHold = await walkByCursor('status=ON_HOLD&page_size=3', (q) => get(`?${q}`));
    expect(onHold.items).toHaveLength(4);
    const stranger = await inv.app.inject({
      method: 'GET',
      url: `/api/ota/reservations?cursor=${page2.next_cursor}`,
      headers: partnerHeaders(ctx.config, randomUUID()),
    });
    expect(stranger.json()).toMatchObject({ data: [], total: 0, next_cursor: null });
    const malformed = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/reservations?cursor=bm9wZQ',
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('VALIDATION_FAILED');

    expect(
      (await get('?status=CANCELLED')).data.map((r: { reservation_id: string }) => r.reservation_id),
    ).toEqual([ids[1]]);
    expect((await get('?status=ON_HOLD')).total).toBe(4);
    expect((await get('?product_id=108')).total).toBe(2);
    const byRef = await get('?reseller_reference=REF-3');
    expect(byRef.data.map((r: { reservation_id: string }) => r.reservation_id)).toEqual([ids[3]]);
    expect(byRef.data[0].reseller_reference).toBe('REF-3');

    const created = all.data.map((r: { created_at: string }) => r.created_at) as string[];
    const third = created[2]!;
    const from = await get(`?created_from=${encodeURIComponent(third)}`);
    expect(from.total).toBe(3);
    const to = await get(`?created_to=${encodeURIComponent(third)}`);
    expect(to.total).toBe(2);
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`?created_from=${today}`)).total).toBe(5);
    expect((await get(`?created_to=${today}`)).total).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('replays the same response for the same body and refuses a different body', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 20 }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    const body = { product_id: 106, visit_date, items: adults(2) };
    const first = await reserveVia(inv, partnerId, body, key);
    const second = await reserveVia(inv, partnerId, { items: adults(2), visit_date, product_id: 106 }, key);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await otaCounters(inv, partnerId)).toMatchObject({ held: 2 });

    const different = await reserveVia(inv, partnerId, { ...body, items: adults(3) }, key);
    expect(different.statusCode).toBe(422);
    expect(different.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Keys are scoped per partner: another partner's identical key is a new request.
    const otherPartner = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 20 }]);
    const theirs = await reserveVia(inv, otherPartner, body, key);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().reservation_id).not.toBe(first.json().reservation_id);
    expect(await otaCounters(inv, partnerId)).toMatchObject({ held: 2 });
  });

  it('a refused request does not burn the key', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 2 }]);
    const visit_date = nextDate(ctx.config, 'weekday');
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    const blocker = await reserveVia(inv, partnerId, { product_id: 106, visit_date, items: adults(2) });
    const refused = await reserveVia(inv, partnerId, { product_id: 106, visit_date, items: adults(1) }, key);
    expect(refused.statusCode).toBe(409);
    await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${blocker.json().reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    const retried = await reserveVia(inv, partnerId, { product_id: 106, visit_date, items: adults(1) }, key);
    expect(retried.statusCode).toBe(201);
  });

  it('8 concurrent duplicates hold once and all get the same response', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 50 }]);
    const visit_date = nextDate(ctx.config, 'weekend');
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    const body = { product_id: 106, visit_date, items: adults(3) };
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => reserveVia(inv, partnerId, body, key)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    const ids = new Set(responses.map((r) => r.json().reservation_id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
    expect(await otaCounters(inv, partnerId)).toEqual({ allocated: 50, held: 3, sold: 0, available: 47 });
    const { rows } = await inv.deps.pool.query(
      'SELECT count(*)::int AS n FROM inventory.reservations WHERE partner_id = $1',
      [partnerId],
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('expiry without the sweeper', () => {
  it('an expired but unswept hold does not block a new one, and reads as EXPIRED', async () => {
    // Workers off: nothing sweeps, so only the reserving transaction can release the stale hold. Apart,
    // so its commands (1 s holds) are answered by it alone, not by the file's instance.
    const shortHold = await startInventoryApart(
      { ...ctx.config, RESERVATION_HOLD_SECONDS: 1, RUN_WORKERS: false },
      'short',
    );
    try {
      const partnerId = await newPartner(shortHold.deps, [{ productId: 106, channel: 'ota', allocated: 5 }]);
      const visit_date = nextDate(ctx.config, 'weekday');
      const first = await reserveVia(shortHold, partnerId, { product_id: 106, visit_date, items: adults(5) });
      expect(first.statusCode).toBe(201);
      const blocked = await reserveVia(shortHold, partnerId, {
        product_id: 106,
        visit_date,
        items: adults(1),
      });
      expect(blocked.statusCode).toBe(409);

      await sleep(1_100);
      // Readers see it expired and its units free before anything has written the expiry.
      expect(await otaCounters(shortHold, partnerId)).toEqual({
        allocated: 5,
        held: 0,
        sold: 0,
        available: 5,
      });
      const read = await readReservation(
        shortHold.deps.nc,
        shortHold.config,
        partnerId,
        first.json().reservation_id,
      );
      expect(read.json().status).toBe('EXPIRED');
      const stored = await shortHold.deps.pool.query(
        'SELECT status FROM inventory.reservations WHERE id = $1',
        [first.json().reservation_id],
      );
      expect(stored.rows[0].status).toBe('ON_HOLD');

      const next = await reserveVia(shortHold, partnerId, { product_id: 106, visit_date, items: adults(5) });
      expect(next.statusCode).toBe(201);
      const after = await shortHold.deps.pool.query(
        'SELECT status FROM inventory.reservations WHERE id = $1',
        [first.json().reservation_id],
      );
      expect(after.rows[0].status).toBe('EXPIRED');
      const outbox = await shortHold.deps.pool.query(
        `SELECT envelope FROM inventory.outbox WHERE subject = 'events.inventory.reservations.expired'
         AND envelope->'data'->'reservations' @> $1::jsonb`,
        [JSON.stringify([{ reservation_id: first.json().reservation_id }])],
      );
      expect(outbox.rowCount).toBe(1);

      const cancel = await shortHold.app.inject({
        method: 'POST',
        url: `/api/ota/reservations/${first.json().reservation_id}/cancel`,
        headers: partnerHeaders(ctx.config, partnerId),
      });
      expect(cancel.statusCode).toBe(409);
      expect(cancel.json().code).toBe('RESERVATION_NOT_ON_HOLD');
      expect(await otaCounters(shortHold, partnerId)).toEqual({
        allocated: 5,
        held: 5,
        sold: 0,
        available: 0,
      });
      expect((await checkLedger(shortHold.deps.pool)).ok).toBe(true);
    } finally {
      await shortHold.close();
    }
  });
});
