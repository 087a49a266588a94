// Bad input never gives a 500: random bodies, query strings and path segments against every issuance
// route answer with a problem of the contract (4xx), never an internal error.

import { createCommandClient } from '@cruise/shared';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateBatch } from '../src/domain/batches.ts';
import { flushPendingReleases } from '../src/domain/pool-releases.ts';
import {
  adminHeaders,
  newPartner,
  notify,
  partnerHeaders,
  poolOf,
  type System,
  startSystem,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let partner: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  partner = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 10 }]);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const json = fc.jsonValue({ maxDepth: 3 });
const field = fc.oneof(
  json,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.constant('00000000-0000-4000-8000-000000000000'),
  fc.constantFrom(106, 107, 108, 0, -1, 2 ** 31, 1e308),
);
/** Objects shaped like the real bodies (right keys, hostile values) and wholly random JSON. */
const bodyLike = (keys: string[]) => fc.oneof(fc.dictionary(fc.constantFrom(...keys), field), json);

function expectNo5xx(res: { statusCode: number; body: string }, what: string) {
  expect(res.statusCode, `${what} → ${res.body}`).toBeLessThan(500);
  if (res.statusCode >= 400) expect(JSON.parse(res.body).code, what).toBeTypeOf('string');
}

it('POST bodies of every issuance route', async () => {
  const routes: { url: string; keys: string[]; headers: Record<string, string> }[] = [
    {
      url: '/api/ota/resellers',
      keys: ['name', 'contact_email', 'region', 'commission_rate'],
      headers: partnerHeaders(ctx.config, partner),
    },
    {
      url: '/api/ota/tickets/bulk-generate',
      keys: ['product_id', 'quantity', 'reseller_id', 'batch_reference', 'distribution'],
      headers: partnerHeaders(ctx.config, partner),
    },
    {
      url: '/api/ota/tickets/ABCDEFGHJKMNPQRSTVWXYZ01/activate',
      keys: ['customer_type', 'customer', 'reseller_id', 'order_reference'],
      headers: partnerHeaders(ctx.config, partner),
    },
    {
      url: '/api/direct/orders',
      keys: ['product_id', 'visit_date', 'items'],
      headers: adminHeaders(ctx.config),
    },
  ];
  for (const route of routes) {
    await fc.assert(
      fc.asyncProperty(bodyLike(route.keys), async (body) => {
        const res = await sys.issuance.inject({
          method: 'POST',
          url: route.url,
          headers: route.headers,
          payload: JSON.stringify(body),
        });
        expectNo5xx(res, `POST ${route.url} ${JSON.stringify(body)}`);
      }),
      { numRuns: 60 },
    );
  }
});

it('signed webhook bodies', async () => {
  await fc.assert(
    fc.asyncProperty(
      bodyLike(['payment_id', 'reservation_id', 'status', 'amount', 'paid_at']),
      async (body) => {
        const res = await notify(sys, ctx.config, body as Record<string, unknown>);
        expectNo5xx(res, `notify ${JSON.stringify(body)}`);
      },
    ),
    { numRuns: 80 },
  );
});

it('cursors shaped like the server’s, with hostile keys, on every list', async () => {
  const keyValue = fc.oneof(
    field,
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '000Z')),
    fc.constantFrom(
      '0000-01-01T00:00:00.000000Z',
      '9999-12-31T23:59:59.999999Z',
      '2026-02-30T00:00:00.000000Z',
      '-9223372036854775808',
      '9223372036854775808',
      '2147483648',
      '\u0000',
      '00000000-0000-4000-8000-000000000000',
    ),
  );
  const cursor = fc
    .record({
      o: fc.constantFrom('tickets', 'batch-tickets', 'batches', 'resellers', 'pending-releases', 'x'),
      k: fc.array(keyValue, { maxLength: 3 }),
      p: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(1e15)),
    })
    .map((c) => Buffer.from(JSON.stringify(c)).toString('base64url'));
  const batch = '00000000-0000-4000-8000-000000000000';
  await fc.assert(
    fc.asyncProperty(cursor, async (c) => {
      for (const [url, headers] of [
        [`/api/ota/tickets?cursor=${c}`, partnerHeaders(ctx.config, partner)],
        [`/api/ota/tickets?batch_id=${batch}&cursor=${c}`, partnerHeaders(ctx.config, partner)],
        [`/api/ota/batches?cursor=${c}`, partnerHeaders(ctx.config, partner)],
        [`/api/ota/resellers?cursor=${c}`, partnerHeaders(ctx.config, partner)],
        [`/api/admin/batches?cursor=${c}`, adminHeaders(ctx.config)],
        [`/api/admin/pending-releases?cursor=${c}`, adminHeaders(ctx.config)],
      ] as const) {
        const res = await sys.issuance.inject({ url, headers });
        expectNo5xx(res, `GET ${url}`);
      }
    }),
    { numRuns: 60 },
  );
});

it('query strings and path segments', async () => {
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('', '0', '-1', '1e9', 'ACTIVE', '2026-02-30', '2026-11-24T25:00:00Z'),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(
        fc.constantFrom(
          'status',
          'batch_id',
          'reservation_id',
          'reseller_id',
          'product_id',
          'created_from',
          'created_to',
          'page',
          'page_size',
          'cursor',
          'from',
          'to',
        ),
        value,
      ),
      fc.string({ maxLength: 80 }),
      async (query, segment) => {
        const qs = new URLSearchParams(query as Record<string, string>).toString();
        const seg = encodeURIComponent(segment);
        for (const url of [
          `/api/ota/tickets?${qs}`,
          `/api/ota/batches?${qs}`,
          `/api/ota/resellers?${qs}`,
          `/api/ota/billing/summary?${qs}`,
          `/api/ota/reports/reconciliation?${qs}`,
          `/api/ota/tickets/${seg}`,
          `/api/ota/batches/${seg}`,
          `/api/ota/batches/${seg}/tickets.csv`,
          `/api/ota/resellers/${seg}`,
        ]) {
          const res = await sys.issuance.inject({ url, headers: partnerHeaders(ctx.config, partner) });
          expectNo5xx(res, `GET ${url}`);
        }
      },
    ),
    { numRuns: 40 },
  );
});

it('a caller without the right identity gets 401 before its body is looked at', async () => {
  const cases = [
    { method: 'POST' as const, url: '/api/ota/resellers', headers: {} },
    { method: 'POST' as const, url: '/api/ota/tickets/bulk-generate', headers: adminHeaders(ctx.config) },
    { method: 'POST' as const, url: '/api/direct/orders', headers: partnerHeaders(ctx.config, partner) },
    {
      method: 'GET' as const,
      url: '/api/ota/tickets?page_size=9999',
      headers: { 'x-internal-token': 'wrong-token-1234567' },
    },
  ];
  for (const c of cases) {
    const res = await sys.issuance.inject({
      ...c,
      payload: c.method === 'POST' ? { nonsense: true } : undefined,
    });
    expect(res.statusCode, `${c.method} ${c.url}`).toBe(401);
    expect(res.json().code).toBe('UNAUTHORIZED');
  }
});

it('with inventory unreachable: payments and batches answer 503 and record nothing; a cancel release waits', async () => {
  const { buildApp } = await import('../src/app.ts');
  const { closeServiceDeps, createServiceDeps } = await import('@cruise/shared');
  // Same database, but a NATS prefix no inventory answers on.
  const config = {
    ...ctx.config,
    NATS_PREFIX: `${ctx.config.NATS_PREFIX}-alone`,
    NATS_REQUEST_TIMEOUT_MS: 300,
  };
  const deps = await createServiceDeps(config, 'issuance-alone');
  const alone = injectAsGateway(
    await buildApp(config, deps, { logger: false, workers: false }),
    config.INTERNAL_TOKEN,
  );
  try {
    const body = {
      payment_id: 'pay_no_inventory',
      reservation_id: '00000000-0000-4000-8000-000000000000',
      status: 'SUCCEEDED',
      amount: { amount: 100, currency: 'USD' },
    };
    const res = await notify({ ...sys, issuance: alone }, config, body);
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
    const { rows } = await deps.pool.query(
      "SELECT 1 FROM issuance.payments WHERE payment_id = 'pay_no_inventory'",
    );
    expect(rows).toHaveLength(0);

    const reseller = await alone.inject({
      method: 'POST',
      url: '/api/ota/resellers',
      headers: partnerHeaders(config, partner),
      payload: { name: 'R' },
    });
    const batch = await alone.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: partnerHeaders(config, partner),
      payload: { product_id: 106, quantity: 5, reseller_id: reseller.json().reseller_id },
    });
    expect(batch.statusCode).toBe(503);
    const { rows: batches } = await deps.pool.query('SELECT 1 FROM issuance.batches WHERE partner_id = $1', [
      partner,
    ]);
    expect(batches).toHaveLength(0);

    // A cancel still succeeds: the release waits in pending_releases until inventory answers again.
    const made = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: partnerHeaders(config, partner),
      payload: { product_id: 106, quantity: 2, reseller_id: reseller.json().reseller_id },
    });
    expect(made.statusCode, made.body).toBe(202);
    await generateBatch(deps.pool, made.json().batch_id, { chunkSize: 10 });
    const { rows: codes } = await deps.pool.query<{ ticket_code: string }>(
      'SELECT ticket_code FROM issuance.tickets WHERE batch_id = $1',
      [made.json().batch_id],
    );
    const heldBefore = (await poolOf(sys, partner, 106, 'reseller')).held;
    const cancel = await alone.inject({
      method: 'POST',
      url: `/api/ota/tickets/${codes[0]!.ticket_code}/cancel`,
      headers: partnerHeaders(config, partner),
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect((await poolOf(sys, partner, 106, 'reseller')).held).toBe(heldBefore);
    const { rows: pending } = await deps.pool.query(
      'SELECT attempts FROM issuance.pending_releases WHERE sent_at IS NULL',
    );
    expect(pending).toEqual([{ attempts: 1 }]);
    // Inventory is back (the sweep's step): the release goes through, once.
    const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
    expect(await flushPendingReleases(deps.pool, inventory, deps.log)).toBe(1);
    expect(await flushPendingReleases(deps.pool, inventory, deps.log)).toBe(0);
    expect((await poolOf(sys, partner, 106, 'reseller')).held).toBe(heldBefore - 1);
  } finally {
    await alone.close();
    await closeServiceDeps(deps);
  }
});
