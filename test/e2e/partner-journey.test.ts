// End to end: the four services as real processes, driven over HTTP through the gateway exactly as an
// operator, an OTA partner, the payment provider and a venue scanner would.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  pay,
  type System,
  seedCatalogue,
  startSystem,
} from '../resilience/system.ts';

let ctx: TestContext;
let system: System;
let acme: Partner;
let other: Partner;
let device: { device_id: string; device_key: string };

/** The next Saturday after today (UTC), so the weekend price applies. */
function nextSaturday(): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + ((6 - d.getUTCDay() + 7) % 7 || 7));
  return d.toISOString().slice(0, 10);
}

/** Polls until `check` returns a value (eventual consistency across services), or fails with `what`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  ctx = await createTestContext();
  await seedCatalogue(ctx.config.DATABASE_URL);
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    env: { BATCH_CHUNK_SIZE: '40' },
  });
  const op = operator(system);
  acme = await op.createPartner('Acme Travel', 1000);
  other = await op.createPartner('Other Travel', 1000);
  await op.allocate(acme.partner_id, 106, 'ota', 10);
  await op.allocate(acme.partner_id, 106, 'reseller', 200);
  await op.allocate(other.partner_id, 106, 'ota', 5);
  device = await op.createDevice('Pier 3', 'Gate A');
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await ctx?.cleanup();
});

const as = (partner: Partner) => ({
  get: (path: string) => call('GET', `${system.gateway}${path}`, { token: partner.api_key }),
  post: (path: string, body: unknown = {}, headers: Record<string, string> = {}) =>
    call('POST', `${system.gateway}${path}`, { token: partner.api_key, body, headers }),
});

describe('a partner sells, the customer pays, the scanner redeems', () => {
  let reservation: { reservation_id: string; total: { amount: number; currency: string } };
  let tickets: { ticket_code: string; status: string; entitlements: { function_code: string }[] }[];

  it('shows the partner its own pools and the weekend price matrix', async () => {
    const res = await as(acme).get(`/api/ota/inventory?visit_date=${nextSaturday()}`);
    const body = expectStatus(res, 200, 'inventory');
    expect(res.headers.get('ratelimit-limit')).toBe('1000');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const p106 = body.products.find((p: { product_id: number }) => p.product_id === 106);
    expect(p106.channels.ota).toEqual({ allocated: 10, held: 0, sold: 0, available: 10 });
    expect(p106.channels.reseller).toMatchObject({ allocated: 200, available: 200 });
    expect(body.day_type).toBe('weekend');
    const adult = p106.pricing.customer_types.find(
      (c: { customer_type: string }) => c.customer_type === 'adult',
    );
    expect(adult).toMatchObject({ weekday: 28800, weekend: 31800, price: 31800, discount_vs_adult: 0 });
  });

  it('holds units idempotently', async () => {
    const body = {
      product_id: 106,
      visit_date: nextSaturday(),
      reseller_reference: 'OTA-ORDER-991',
      items: [
        { customer_type: 'adult', quantity: 2 },
        { customer_type: 'child', quantity: 1 },
      ],
    };
    const first = await as(acme).post('/api/ota/reservations', body, { 'idempotency-key': 'order-991' });
    reservation = expectStatus(first, 201, 'reserve');
    expect(first.body).toMatchObject({
      status: 'ON_HOLD',
      quantity: 3,
      total: { amount: 85400, currency: 'USD' },
    });
    const again = await as(acme).post('/api/ota/reservations', body, { 'idempotency-key': 'order-991' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const reused = await as(acme).post(
      '/api/ota/reservations',
      { ...body, items: [body.items[0]] },
      {
        'idempotency-key': 'order-991',
      },
    );
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const inv = expectStatus(await as(acme).get('/api/ota/inventory'), 200, 'inventory');
    expect(inv.products[0].channels.ota).toMatchObject({ held: 3, available: 7 });
  });

  it('issues one ticket per unit when the payment arrives, once', async () => {
    const paid = await pay(system, reservation, 'pay_e2e_1');
    const body = expectStatus(paid, 200, 'payment');
    expect(body.reservation_status).toBe('CONFIRMED');
    tickets = body.tickets;
    expect(tickets).toHaveLength(3);
    for (const t of tickets) {
      expect(t.status).toBe('ACTIVE');
      expect(t.entitlements.map((e) => e.function_code)).toEqual([
        'FERRY',
        'PREMIUM_LOUNGE',
        'BUFFET_DINNER',
      ]);
    }
    expect(new Set(tickets.map((t) => t.ticket_code)).size).toBe(3);
    const replay = await pay(system, reservation, 'pay_e2e_1');
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(paid.body);
    const listed = expectStatus(
      await as(acme).get(`/api/ota/tickets?reservation_id=${reservation.reservation_id}`),
      200,
      'ticket list',
    );
    expect(listed.total).toBe(3);
    const confirmed = expectStatus(
      await as(acme).get(`/api/ota/reservations/${reservation.reservation_id}`),
      200,
      'reservation',
    );
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.tickets.map((t: { ticket_code: string }) => t.ticket_code).sort()).toEqual(
      tickets.map((t) => t.ticket_code).sort(),
    );
    const inv = expectStatus(await as(acme).get('/api/ota/inventory'), 200, 'inventory');
    expect(inv.products[0].channels.ota).toMatchObject({ held: 0, sold: 3, available: 7 });
  });

  it('never shows one partner what belongs to another', async () => {
    const code = tickets[0]!.ticket_code;
    expect((await as(other).get(`/api/ota/tickets/${code}`)).status).toBe(404);
    expect((await as(other).get(`/api/ota/reservations/${reservation.reservation_id}`)).status).toBe(404);
    expect((await as(other).post(`/qr/${code}`)).status).toBe(404);
    const list = expectStatus(await as(other).get('/api/ota/tickets'), 200, 'other list');
    expect(list.total).toBe(0);
  });

  it('redeems entitlement by entitlement until the ticket is USED', async () => {
    const code = tickets[0]!.ticket_code;
    const qr = expectStatus(await as(acme).post(`/qr/${code}`), 200, 'qr');
    expect(qr.image).toMatch(/^data:image\/png;base64,/);
    const scan = (function_code: string, nonce: string) =>
      call('POST', `${system.gateway}/venue/redeem`, {
        token: device.device_key,
        body: { qr_token: qr.qr_token, function_code, session_code: 'SAILING-0930', nonce },
      });
    const first = expectStatus(await scan('FERRY', 'n-1'), 200, 'scan ferry');
    expect(first).toMatchObject({
      result: 'ACCEPTED',
      ticket_status: 'ACTIVE',
      remaining: ['PREMIUM_LOUNGE', 'BUFFET_DINNER'],
    });
    const retry = await scan('FERRY', 'n-1');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first);
    const twice = await scan('FERRY', 'n-2');
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: 'ALREADY_REDEEMED', redeemed_at: first.redeemed_at });
    expectStatus(await scan('PREMIUM_LOUNGE', 'n-3'), 200, 'scan lounge');
    const last = expectStatus(await scan('BUFFET_DINNER', 'n-4'), 200, 'scan dinner');
    expect(last).toMatchObject({ ticket_status: 'USED', remaining: [] });

    const info = expectStatus(await call('GET', `${system.gateway}/qr/${code}/info`), 200, 'info');
    expect(info).toMatchObject({ status: 'USED', remaining: [] });
    // Issuance learns of USED through the event stream.
    await eventually('USED in the partner ticket list', async () => {
      const list = await as(acme).get(`/api/ota/tickets?status=USED`);
      return list.body.total === 1 && list.body.data[0].ticket_code === code ? true : undefined;
    });
    const used = expectStatus(await as(acme).get(`/api/ota/tickets/${code}`), 200, 'ticket');
    expect(used.used_at).toBeTruthy();
  });
});

describe('a partner pre-generates a batch for a reseller and activates a ticket when sold', () => {
  it('generates, streams, activates and redeems', async () => {
    const reseller = expectStatus(
      await as(acme).post('/api/ota/resellers', {
        name: 'Shanghai Seller',
        contact_email: 'ops@seller.example',
        region: 'Shanghai',
        commission_rate: 0.1,
      }),
      201,
      'reseller',
    );
    const accepted = await as(acme).post('/api/ota/tickets/bulk-generate', {
      product_id: 106,
      quantity: 150,
      reseller_id: reseller.reseller_id,
      batch_reference: 'Q4-SHANGHAI',
      distribution: { region: 'Shanghai' },
    });
    const batch = expectStatus(accepted, 202, 'bulk generate');
    expect(batch).toMatchObject({
      status: 'QUEUED',
      quantity: 150,
      poll_url: `/api/ota/batches/${batch.batch_id}`,
    });
    const done = await eventually('batch COMPLETED', async () => {
      const b = expectStatus(await as(acme).get(batch.poll_url), 200, 'batch');
      expect(b.status).not.toBe('FAILED');
      return b.status === 'COMPLETED' ? b : undefined;
    });
    expect(done.generated).toBe(150);
    expect((await as(other).get(batch.poll_url)).status).toBe(404);

    const csv = await as(acme).get(`/api/ota/batches/${batch.batch_id}/tickets.csv`);
    expect(csv.status).toBe(200);
    const [header, ...rows] = csv.text.trim().split('\n');
    const column = header!.split(',').indexOf('ticket_code');
    const codes = rows.map((line) => line.split(',')[column]!);
    expect(new Set(codes).size).toBe(150);

    const code = codes[0]!;
    const sale = {
      customer_type: 'child',
      customer: { name: 'Li Wei', email: 'li@example.com' },
      reseller_id: reseller.reseller_id,
      order_reference: 'SH-1',
    };
    const activated = await as(acme).post(`/api/ota/tickets/${code}/activate`, sale);
    const ticket = expectStatus(activated, 200, 'activate');
    expect(ticket).toMatchObject({
      status: 'ACTIVE',
      customer_type: 'child',
      reseller: { reseller_id: reseller.reseller_id },
    });
    const again = await as(acme).post(`/api/ota/tickets/${code}/activate`, {
      ...sale,
      order_reference: 'SH-2',
    });
    expect(again.body.code).toBe('TICKET_NOT_ACTIVE');
    const scan = await call('POST', `${system.gateway}/venue/redeem`, {
      token: device.device_key,
      body: { ticket_code: code, function_code: 'FERRY' },
    });
    expect(scan.status).toBe(200);

    const inv = expectStatus(await as(acme).get('/api/ota/inventory'), 200, 'inventory');
    expect(inv.products[0].channels.reseller).toMatchObject({
      allocated: 200,
      held: 149,
      sold: 1,
      available: 50,
    });
  });
});
