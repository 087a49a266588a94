// The NATS commands inventory answers, called through createCommandClient against the running
// responders exactly as issuance calls them.
import { randomUUID } from 'node:crypto';
import { type CommandClient, createCommandClient } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger } from '../src/index.ts';
import {
  createReservation,
  newPartner,
  nextDate,
  partnerHeaders,
  type RunningInventory,
  sleep,
  startInventory,
  startInventoryApart,
} from './harness.ts';

let ctx: TestContext;
let inv: RunningInventory;
let commands: CommandClient;

beforeAll(async () => {
  ctx = await createTestContext();
  inv = await startInventory(ctx.config);
  commands = createCommandClient(inv.deps.nc, ctx.config.NATS_PREFIX, 10_000);
});
afterAll(async () => {
  await inv?.close();
  await ctx?.cleanup();
});

async function reserve(target: RunningInventory, partnerId: string, quantity: number, productId = 106) {
  const res = await createReservation(target.deps.nc, target.config, partnerId, {
    product_id: productId,
    visit_date: nextDate(ctx.config, 'weekday'),
    items: [{ customer_type: 'adult', quantity }],
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function pool(partnerId: string | null, channel: string, productId = 106) {
  const { rows } = await inv.deps.pool.query(
    `SELECT allocated, held, sold FROM inventory.pools
     WHERE partner_id IS NOT DISTINCT FROM $1 AND channel = $2 AND product_id = $3`,
    [partnerId, channel, productId],
  );
  return rows[0];
}

describe('confirmHold', () => {
  it('confirming twice with the same payment sells once and answers the same', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const r = await reserve(inv, partnerId, 3);
    const request = { reservation_id: r.reservation_id, payment_id: `pay_${randomUUID()}`, amount: r.total };
    const first = await commands.send('confirmHold', request);
    const second = await commands.send('confirmHold', request);
    expect(first.ok).toBe(true);
    expect(second).toEqual(first);
    if (!first.ok) return;
    expect(first.reservation).toMatchObject({
      status: 'CONFIRMED',
      partner_id: partnerId,
      payment_id: request.payment_id,
      quantity: 3,
    });
    expect(first.product).toEqual({
      product_id: 106,
      name: 'Premium Cruise Package',
      functions: ['FERRY', 'PREMIUM_LOUNGE', 'BUFFET_DINNER'],
    });
    expect(first.reheld).toBe(false);
    expect(await pool(partnerId, 'ota')).toEqual({ allocated: 10, held: 0, sold: 3 });

    const other = await commands.send('confirmHold', { ...request, payment_id: `pay_${randomUUID()}` });
    expect(other).toMatchObject({ ok: false, code: 'RESERVATION_NOT_ON_HOLD' });
    const cancel = await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${r.reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(cancel.statusCode).toBe(409);
    expect(await pool(partnerId, 'ota')).toEqual({ allocated: 10, held: 0, sold: 3 });
  });

  it('concurrent confirmations of one payment sell once', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const r = await reserve(inv, partnerId, 2);
    const request = { reservation_id: r.reservation_id, payment_id: `pay_${randomUUID()}`, amount: r.total };
    const replies = await Promise.all(Array.from({ length: 6 }, () => commands.send('confirmHold', request)));
    expect(replies.every((x) => x.ok)).toBe(true);
    for (const reply of replies) expect(reply).toEqual(replies[0]);
    expect(await pool(partnerId, 'ota')).toEqual({ allocated: 10, held: 0, sold: 2 });
    const { rows } = await inv.deps.pool.query(
      `SELECT count(*)::int AS n FROM inventory.inventory_ledger WHERE reference = $1 AND kind = 'sell'`,
      [`reservation:${r.reservation_id}`],
    );
    expect(rows[0].n).toBe(1);
  });

  it('refuses a wrong amount or currency and leaves the reservation unchanged', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const r = await reserve(inv, partnerId, 1);
    for (const amount of [
      { amount: r.total.amount - 1, currency: 'USD' },
      { amount: r.total.amount, currency: 'EUR' },
    ]) {
      const reply = await commands.send('confirmHold', {
        reservation_id: r.reservation_id,
        payment_id: `pay_${randomUUID()}`,
        amount,
      });
      expect(reply).toMatchObject({ ok: false, code: 'AMOUNT_MISMATCH' });
    }
    const snapshot = await commands.send('getReservation', { reservation_id: r.reservation_id });
    expect(snapshot).toMatchObject({ ok: true, reservation: { status: 'ON_HOLD', payment_id: null } });
    expect(await pool(partnerId, 'ota')).toEqual({ allocated: 10, held: 1, sold: 0 });
  });

  it('answers NOT_FOUND for an unknown reservation and RESERVATION_NOT_ON_HOLD for a cancelled one', async () => {
    const unknown = await commands.send('confirmHold', {
      reservation_id: randomUUID(),
      payment_id: 'pay_x',
      amount: { amount: 1, currency: 'USD' },
    });
    expect(unknown).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await commands.send('getReservation', { reservation_id: randomUUID() })).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 10 }]);
    const r = await reserve(inv, partnerId, 1);
    await inv.app.inject({
      method: 'POST',
      url: `/api/ota/reservations/${r.reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    const cancelled = await commands.send('confirmHold', {
      reservation_id: r.reservation_id,
      payment_id: `pay_${randomUUID()}`,
      amount: r.total,
    });
    expect(cancelled).toMatchObject({ ok: false, code: 'RESERVATION_NOT_ON_HOLD' });
  });

  it('re-holds an expired reservation when its pool has room, else RESERVATION_EXPIRED', async () => {
    // Apart: its own subjects, so the 1 s holds are taken by it and not by the file's instance.
    const shortHold = await startInventoryApart(
      { ...ctx.config, RESERVATION_HOLD_SECONDS: 1, RUN_WORKERS: false },
      'short',
    );
    try {
      const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 4 }]);
      const roomy = await reserve(shortHold, partnerId, 2);
      const starved = await reserve(shortHold, partnerId, 2);
      await sleep(1_100);
      // Expired and unswept: the payment re-holds and sells.
      const reheld = await commands.send('confirmHold', {
        reservation_id: roomy.reservation_id,
        payment_id: `pay_${randomUUID()}`,
        amount: roomy.total,
      });
      expect(reheld).toMatchObject({ ok: true, reheld: true, reservation: { status: 'CONFIRMED' } });
      // Someone else takes the rest; the second expired reservation's payment finds no room.
      const taker = await reserve(shortHold, partnerId, 2);
      expect(taker.status).toBe('ON_HOLD');
      const late = await commands.send('confirmHold', {
        reservation_id: starved.reservation_id,
        payment_id: `pay_${randomUUID()}`,
        amount: starved.total,
      });
      expect(late).toMatchObject({ ok: false, code: 'RESERVATION_EXPIRED' });
      expect(await pool(partnerId, 'ota')).toEqual({ allocated: 4, held: 2, sold: 2 });
      const snapshot = await commands.send('getReservation', { reservation_id: starved.reservation_id });
      expect(snapshot).toMatchObject({ ok: true, reservation: { status: 'EXPIRED' } });
      expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
    } finally {
      await shortHold.close();
    }
  });
});

describe('confirm racing cancel', () => {
  it('each reservation ends either confirmed or cancelled, never both, with counters to match', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 107, channel: 'ota', allocated: 40 }]);
    const reservations = [];
    for (let i = 0; i < 10; i++) reservations.push(await reserve(inv, partnerId, 2, 107));
    const outcomes = await Promise.all(
      reservations.map(async (r) => {
        const [confirmed, cancelled] = await Promise.all([
          commands.send('confirmHold', {
            reservation_id: r.reservation_id,
            payment_id: `pay_${randomUUID()}`,
            amount: r.total,
          }),
          inv.app.inject({
            method: 'POST',
            url: `/api/ota/reservations/${r.reservation_id}/cancel`,
            headers: partnerHeaders(ctx.config, partnerId),
          }),
        ]);
        return { confirmed: confirmed.ok, cancelled: cancelled.statusCode === 200 };
      }),
    );
    for (const o of outcomes) expect(o.confirmed !== o.cancelled).toBe(true);
    const confirmedCount = outcomes.filter((o) => o.confirmed).length;
    expect(await pool(partnerId, 'ota', 107)).toEqual({ allocated: 40, held: 0, sold: 2 * confirmedCount });
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });
});

describe('reseller batches', () => {
  it('holdBatch holds once per batch id and reports what is available', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 107, channel: 'reseller', allocated: 10 }]);
    const request = { batch_id: randomUUID(), partner_id: partnerId, product_id: 107, quantity: 6 };
    const replies = await Promise.all([0, 1, 2, 3].map(() => commands.send('holdBatch', request)));
    for (const reply of replies) {
      expect(reply).toEqual({
        ok: true,
        product: { product_id: 107, name: 'Pet Plan', functions: ['FERRY', 'PET_AREA', 'PET_SNACK'] },
      });
    }
    expect(await pool(partnerId, 'reseller', 107)).toEqual({ allocated: 10, held: 6, sold: 0 });

    const tooMany = await commands.send('holdBatch', { ...request, batch_id: randomUUID(), quantity: 5 });
    expect(tooMany).toMatchObject({
      ok: false,
      code: 'INSUFFICIENT_INVENTORY',
      extensions: { available: 4 },
    });
    if (!tooMany.ok) expect(tooMany.detail).toContain('Only 4 units');
    const reused = await commands.send('holdBatch', { ...request, quantity: 1 });
    expect(reused).toMatchObject({ ok: false, code: 'IDEMPOTENCY_KEY_REUSED' });
    const unknown = await commands.send('holdBatch', { ...request, batch_id: randomUUID(), product_id: 999 });
    expect(unknown).toMatchObject({ ok: false, code: 'UNKNOWN_PRODUCT' });
    // The ota pool is not the reseller pool.
    const noPool = await commands.send('holdBatch', { ...request, batch_id: randomUUID(), product_id: 106 });
    expect(noPool).toMatchObject({ ok: false, code: 'INSUFFICIENT_INVENTORY', extensions: { available: 0 } });
  });

  it('sellHeld sells one held unit at the price of the day, once per ref', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 107, channel: 'reseller', allocated: 10 }]);
    await commands.send('holdBatch', {
      batch_id: randomUUID(),
      partner_id: partnerId,
      product_id: 107,
      quantity: 2,
    });
    const sell = (ref: string, customer_type: string, kind: 'weekday' | 'weekend') =>
      commands.send('sellHeld', {
        ref,
        partner_id: partnerId,
        product_id: 107,
        channel: 'reseller',
        customer_type,
        date: nextDate(ctx.config, kind),
      });
    const ref = `ticket-${randomUUID()}`;
    const [x, y] = await Promise.all([sell(ref, 'family', 'weekend'), sell(ref, 'family', 'weekend')]);
    expect(x).toEqual({ ok: true, unit_price: { amount: 12800, currency: 'USD' } });
    expect(y).toEqual(x);
    expect(await sell(`ticket-${randomUUID()}`, 'child', 'weekday')).toEqual({
      ok: true,
      unit_price: { amount: 3800, currency: 'USD' },
    });
    expect(await pool(partnerId, 'reseller', 107)).toEqual({ allocated: 10, held: 0, sold: 2 });
    expect(await sell(`ticket-${randomUUID()}`, 'vip', 'weekday')).toMatchObject({
      ok: false,
      code: 'UNKNOWN_CUSTOMER_TYPE',
    });
    expect(await sell(`ticket-${randomUUID()}`, 'adult', 'weekday')).toMatchObject({
      ok: false,
      code: 'INSUFFICIENT_INVENTORY',
    });
  });

  it('release returns held or sold units once per ref', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 108, channel: 'reseller', allocated: 10 }]);
    await commands.send('holdBatch', {
      batch_id: randomUUID(),
      partner_id: partnerId,
      product_id: 108,
      quantity: 5,
    });
    await commands.send('sellHeld', {
      ref: 'sold-1',
      partner_id: partnerId,
      product_id: 108,
      channel: 'reseller',
      customer_type: 'vip',
      date: nextDate(ctx.config, 'weekday'),
    });
    const release = {
      ref: `expire-${randomUUID()}`,
      partner_id: partnerId,
      product_id: 108,
      channel: 'reseller' as const,
      from: 'held' as const,
      quantity: 3,
      reason: 'expire' as const,
    };
    expect(await Promise.all([commands.send('release', release), commands.send('release', release)])).toEqual(
      [{ ok: true }, { ok: true }],
    );
    expect(await pool(partnerId, 'reseller', 108)).toEqual({ allocated: 10, held: 1, sold: 1 });
    const fromSold = {
      ...release,
      ref: `cancel-${randomUUID()}`,
      from: 'sold' as const,
      quantity: 1,
      reason: 'cancel' as const,
    };
    expect(await commands.send('release', fromSold)).toEqual({ ok: true });
    expect(await commands.send('release', fromSold)).toEqual({ ok: true });
    expect(await pool(partnerId, 'reseller', 108)).toEqual({ allocated: 10, held: 1, sold: 0 });
    const tooMuch = await commands.send('release', { ...release, ref: `x-${randomUUID()}`, quantity: 2 });
    expect(tooMuch).toMatchObject({ ok: false, code: 'INSUFFICIENT_INVENTORY' });
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });
});

describe('direct sales and pools', () => {
  it('directSale sells from the direct pool, priced, once per order id', async () => {
    const before = await pool(null, 'direct', 108);
    const request = {
      order_id: randomUUID(),
      product_id: 108,
      visit_date: nextDate(ctx.config, 'weekend'),
      items: [
        { customer_type: 'adult', quantity: 1 },
        { customer_type: 'vip', quantity: 2 },
      ],
    };
    const [first, second] = await Promise.all([
      commands.send('directSale', request),
      commands.send('directSale', request),
    ]);
    expect(first).toEqual({
      ok: true,
      items: [
        { customer_type: 'adult', quantity: 1, unit_price: { amount: 86800, currency: 'USD' } },
        { customer_type: 'vip', quantity: 2, unit_price: { amount: 66800, currency: 'USD' } },
      ],
      total: { amount: 86800 + 2 * 66800, currency: 'USD' },
      product: { product_id: 108, name: 'Deluxe', functions: ['FERRY', 'SUITE', 'GALA_DINNER', 'SPA'] },
    });
    expect(second).toEqual(first);
    expect(await pool(null, 'direct', 108)).toEqual({ ...before, sold: before.sold + 3 });
    const child = await commands.send('directSale', {
      ...request,
      order_id: randomUUID(),
      items: [{ customer_type: 'child', quantity: 1 }],
    });
    expect(child).toMatchObject({ ok: false, code: 'UNKNOWN_CUSTOMER_TYPE' });
    const huge = await commands.send('directSale', {
      ...request,
      order_id: randomUUID(),
      items: [{ customer_type: 'adult', quantity: 6000 }],
    });
    expect(huge).toMatchObject({ ok: false, code: 'INSUFFICIENT_INVENTORY' });
  });

  it('listPools reports a partner’s pools and the direct pools, zeros where nothing is allocated', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 7 }]);
    await reserve(inv, partnerId, 2);
    const reply = await commands.send('listPools', { partner_id: partnerId });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.pools).toHaveLength(6);
    expect(reply.pools).toContainEqual({
      product_id: 106,
      channel: 'ota',
      allocated: 7,
      held: 2,
      sold: 0,
      available: 5,
    });
    expect(reply.pools).toContainEqual({
      product_id: 108,
      channel: 'reseller',
      allocated: 0,
      held: 0,
      sold: 0,
      available: 0,
    });
    const direct = await commands.send('listPools', { partner_id: null });
    expect(direct.ok && direct.pools.map((p) => [p.product_id, p.channel])).toEqual([
      [106, 'direct'],
      [107, 'direct'],
      [108, 'direct'],
    ]);
  });

  it('answers malformed commands with VALIDATION_FAILED', async () => {
    const huge = await commands.send('holdBatch', {
      batch_id: randomUUID(),
      partner_id: randomUUID(),
      product_id: 106,
      quantity: 5_000_000_000,
    });
    expect(huge).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
    const reply = await commands.send('sellHeld', {
      ref: 'r',
      partner_id: randomUUID(),
      product_id: 107,
      channel: 'reseller',
      customer_type: 'adult',
      date: 'someday',
    });
    expect(reply).toMatchObject({ ok: false, code: 'VALIDATION_FAILED' });
  });
});
