// The catalogue and the price matrix: exact contract prices on a weekday and on a weekend, the seed,
// and the business errors of pricing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueSeedStatements } from '../src/domain/catalogue.ts';
import { checkLedger, SEED_CATALOGUE, seedCatalogue, seedPartnerPools } from '../src/index.ts';
import {
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

// The contract's matrix (api.md "Seed products and prices"), written out independently of the seed.
const CONTRACT_PRICES: Record<number, Record<string, [number, number]>> = {
  106: { adult: [28800, 31800], child: [18800, 21800], elderly: [23800, 26800], student: [23800, 26800] },
  107: { adult: [18800, 22800], child: [3800, 7800], family: [8800, 12800], elderly: [11300, 15300] },
  108: { adult: [78800, 86800], vip: [58800, 66800], elderly: [68800, 76800] },
};

describe('GET /api/ota/inventory', () => {
  it.each(['weekday', 'weekend'] as const)('shows the exact contract prices on a %s', async (kind) => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 20 }]);
    const visitDate = nextDate(ctx.config, kind);
    const res = await inv.app.inject({
      method: 'GET',
      url: `/api/ota/inventory?visit_date=${visitDate}`,
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.visit_date).toBe(visitDate);
    expect(body.day_type).toBe(kind);
    expect(body.products.map((p: { product_id: number }) => p.product_id)).toEqual([106, 107, 108]);
    const column = kind === 'weekday' ? 0 : 1;
    for (const product of body.products) {
      const expected = CONTRACT_PRICES[product.product_id]!;
      expect(product.pricing.currency).toBe('USD');
      expect(product.pricing.customer_types.map((c: { customer_type: string }) => c.customer_type)).toEqual(
        Object.keys(expected),
      );
      const adult = expected.adult![column];
      for (const row of product.pricing.customer_types) {
        const [weekday, weekend] = expected[row.customer_type]!;
        expect(row).toEqual({
          customer_type: row.customer_type,
          weekday,
          weekend,
          price: column === 0 ? weekday : weekend,
          discount_vs_adult: adult - (column === 0 ? weekday : weekend),
        });
      }
    }
    const premium = body.products[0];
    expect(premium.name).toBe('Premium Cruise Package');
    expect(premium.functions).toEqual([
      { function_code: 'FERRY', name: 'Ferry boarding' },
      { function_code: 'PREMIUM_LOUNGE', name: 'Premium lounge access' },
      { function_code: 'BUFFET_DINNER', name: 'Buffet dinner' },
    ]);
    expect(premium.channels).toEqual({
      ota: { allocated: 20, held: 0, sold: 0, available: 20 },
      reseller: { allocated: 0, held: 0, sold: 0, available: 0 },
    });
    expect(body.products[1].functions.map((f: { function_code: string }) => f.function_code)).toEqual([
      'FERRY',
      'PET_AREA',
      'PET_SNACK',
    ]);
    expect(body.products[2].functions.map((f: { function_code: string }) => f.function_code)).toEqual([
      'FERRY',
      'SUITE',
      'GALA_DINNER',
      'SPA',
    ]);
  });

  it('prices a reservation with the day type of its visit date', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 20 }]);
    const items = [
      { customer_type: 'adult', quantity: 2 },
      { customer_type: 'child', quantity: 1 },
    ];
    for (const [kind, adult, child] of [
      ['weekday', 28800, 18800],
      ['weekend', 31800, 21800],
    ] as const) {
      const res = await createReservation(inv.deps.nc, inv.config, partnerId, {
        product_id: 106,
        visit_date: nextDate(ctx.config, kind),
        items,
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body.items).toEqual([
        { customer_type: 'adult', quantity: 2, unit_price: { amount: adult, currency: 'USD' } },
        { customer_type: 'child', quantity: 1, unit_price: { amount: child, currency: 'USD' } },
      ]);
      expect(body.total).toEqual({ amount: 2 * adult + child, currency: 'USD' });
      expect(body.quantity).toBe(3);
    }
  });

  it('defaults visit_date to today in the venue time zone and needs a partner', async () => {
    const partnerId = await newPartner(inv.deps, []);
    const res = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/inventory',
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(res.statusCode).toBe(200);
    const { venueDate } = await import('@cruise/shared');
    expect(res.json().visit_date).toBe(venueDate(new Date(), ctx.config.VENUE_TIMEZONE));
    const anonymous = await inv.app.inject({ method: 'GET', url: '/api/ota/inventory' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHORIZED');
    const forged = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/inventory',
      headers: {
        ...partnerHeaders(ctx.config, partnerId),
        'x-internal-timestamp': String(Date.now()),
        'x-internal-signature': 'not-the-gateway-signature',
      },
    });
    expect(forged.statusCode).toBe(401);
    const malformed = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/reservations',
      headers: { ...partnerHeaders(ctx.config, partnerId), 'x-partner-id': 'not-a-uuid' },
    });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json().code).toBe('UNAUTHORIZED');
    const bad = await inv.app.inject({
      method: 'GET',
      url: '/api/ota/inventory?visit_date=2026-02-30',
      headers: partnerHeaders(ctx.config, partnerId),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().code).toBe('VALIDATION_FAILED');
  });
});

describe('pricing errors', () => {
  it('refuses an unknown product and a customer type the product is not sold to', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 108, channel: 'ota', allocated: 20 }]);
    const headers = partnerHeaders(ctx.config, partnerId);
    const visit_date = nextDate(ctx.config, 'weekday');
    const unknownProduct = await createReservation(inv.deps.nc, inv.config, partnerId, {
      product_id: 999,
      visit_date,
      items: [{ customer_type: 'adult', quantity: 1 }],
    });
    expect(unknownProduct.statusCode).toBe(422);
    expect(unknownProduct.json().code).toBe('UNKNOWN_PRODUCT');
    const child = await createReservation(inv.deps.nc, inv.config, partnerId, {
      product_id: 108,
      visit_date,
      items: [{ customer_type: 'child', quantity: 1 }],
    });
    expect(child.statusCode).toBe(422);
    expect(child.json().code).toBe('UNKNOWN_CUSTOMER_TYPE');
    // Nothing was held by the refused requests.
    const view = await inv.app.inject({ method: 'GET', url: '/api/ota/inventory', headers });
    expect(view.json().products[2].channels.ota).toEqual({ allocated: 20, held: 0, sold: 0, available: 20 });
  });

  it('answers bad input with 400 problems, never a 500', async () => {
    const partnerId = await newPartner(inv.deps, [{ productId: 106, channel: 'ota', allocated: 200 }]);
    const headers = partnerHeaders(ctx.config, partnerId);
    const visit_date = nextDate(ctx.config, 'weekday');
    const bodies: unknown[] = [
      {},
      { product_id: 106, visit_date },
      { product_id: 106, visit_date, items: [] },
      { product_id: 106, visit_date, items: [{ customer_type: 'adult', quantity: 0 }] },
      { product_id: 106, visit_date, items: [{ customer_type: 'adult', quantity: 101 }] },
      { product_id: 106, visit_date, items: [{ customer_type: 'adult', quantity: 1.5 }] },
      {
        product_id: 106,
        visit_date,
        items: [
          { customer_type: 'adult', quantity: 60 },
          { customer_type: 'child', quantity: 41 },
        ],
      },
      { product_id: 'abc', visit_date, items: [{ customer_type: 'adult', quantity: 1 }] },
      { product_id: 106, visit_date: '2026-13-01', items: [{ customer_type: 'adult', quantity: 1 }] },
      { product_id: 106, visit_date: '2020-01-01', items: [{ customer_type: 'adult', quantity: 1 }] },
      { product_id: 106, visit_date, items: [{ customer_type: 'ADULT!', quantity: 1 }] },
      { product_id: 106, visit_date, reseller_id: 'nope', items: [{ customer_type: 'adult', quantity: 1 }] },
      { product_id: -1, visit_date, items: [{ customer_type: 'adult', quantity: 1 }] },
      [1, 2, 3],
      'not json at all',
    ];
    // Sent as issuance's createReservation would carry them (issuance's route validates the same schema
    // first); inventory's command validates again and refuses each.
    for (const payload of bodies) {
      const res = await createReservation(inv.deps.nc, inv.config, partnerId, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const badQueries = [
      '/api/ota/reservations?page=0',
      '/api/ota/reservations?page_size=501',
      '/api/ota/reservations?status=SOLD',
      '/api/ota/reservations?created_from=yesterday',
    ];
    for (const url of badQueries) {
      const res = await inv.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('seed', () => {
  it('the catalogue migration is exactly the SQL built from SEED_CATALOGUE', () => {
    const migration = readFileSync(
      fileURLToPath(new URL('../drizzle/0002_seed_catalogue.sql', import.meta.url)),
      'utf8',
    );
    const statements = migration
      .replace(/^--[^\n]*\n/, '')
      .split('--> statement-breakpoint')
      .map((s) => s.trim());
    expect(statements).toEqual(catalogueSeedStatements(SEED_CATALOGUE).map((s) => s.trim()));
  });

  it('the template database already has the catalogue and direct pools; seeding again changes nothing', async () => {
    const before = await inv.deps.pool.query(
      `SELECT product_id, allocated FROM inventory.pools WHERE channel = 'direct' ORDER BY product_id`,
    );
    expect(before.rows).toEqual([
      { product_id: 106, allocated: 5000 },
      { product_id: 107, allocated: 5000 },
      { product_id: 108, allocated: 5000 },
    ]);
    await seedCatalogue(inv.deps.pool);
    await seedCatalogue(inv.deps.pool);
    const counts = await inv.deps.pool.query(
      `SELECT (SELECT count(*) FROM inventory.products)::int AS products,
              (SELECT count(*) FROM inventory.product_functions)::int AS functions,
              (SELECT count(*) FROM inventory.prices)::int AS prices,
              (SELECT count(*) FROM inventory.pools WHERE channel = 'direct')::int AS direct`,
    );
    expect(counts.rows[0]).toEqual({ products: 3, functions: 10, prices: 11, direct: 3 });
  });

  it('seedPartnerPools gives the demo allocations once', async () => {
    const { randomUUID } = await import('node:crypto');
    const partnerId = randomUUID();
    await seedPartnerPools(inv.deps.pool, partnerId);
    await seedPartnerPools(inv.deps.pool, partnerId);
    const { rows } = await inv.deps.pool.query(
      `SELECT product_id, channel, allocated FROM inventory.pools WHERE partner_id = $1 ORDER BY channel, product_id`,
      [partnerId],
    );
    expect(rows).toEqual([
      { product_id: 106, channel: 'ota', allocated: 2000 },
      { product_id: 107, channel: 'ota', allocated: 1500 },
      { product_id: 108, channel: 'ota', allocated: 1500 },
      { product_id: 106, channel: 'reseller', allocated: 1000 },
      { product_id: 107, channel: 'reseller', allocated: 500 },
      { product_id: 108, channel: 'reseller', allocated: 500 },
    ]);
    expect((await checkLedger(inv.deps.pool)).ok).toBe(true);
  });
});
