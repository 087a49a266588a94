// End to end: the four services as real processes, driven over HTTP through the gateway exactly as an
// operator, an OTA partner, the payment provider and a venue scanner would: through @cruise/client,
// the typed client partners use, so it is exercised on every run.
import {
  ApiError,
  type CruiseClient,
  createCruiseClient,
  downloadBatchCsv,
  type Schemas,
  unwrap,
  waitForBatch,
} from '@cruise/client';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

const as = (partner: Partner): CruiseClient =>
  createCruiseClient({ baseUrl: system.gateway, token: partner.api_key });

/** The ApiError a refused call ends in (fails the test when the call succeeds). */
async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const outcome = await unwrap(call as Promise<{ data?: unknown; error?: unknown; response: Response }>).then(
    (data) => data,
    (err: unknown) => err,
  );
  if (!(outcome instanceof ApiError)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const ticketPath = (ticket_code: string) => ({ params: { path: { ticket_code } } });

describe('a partner sells, the customer pays, the scanner redeems', () => {
  let reservation: Schemas['Reservation'];
  let tickets: Schemas['Ticket'][];

  it('shows the partner its own pools and the weekend price matrix', async () => {
    const { data: body, response } = await as(acme).GET('/api/ota/inventory', {
      params: { query: { visit_date: nextSaturday() } },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-limit')).toBe('1000');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const p106 = body!.products.find((p) => p.product_id === 106)!;
    expect(p106.channels.ota).toEqual({ allocated: 10, held: 0, sold: 0, available: 10 });
    expect(p106.channels.reseller).toMatchObject({ allocated: 200, available: 200 });
    expect(body!.day_type).toBe('weekend');
    const adult = p106.pricing.customer_types.find((c) => c.customer_type === 'adult');
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
    const key = { header: { 'idempotency-key': 'order-991' } };
    const first = await as(acme).POST('/api/ota/reservations', { body, params: key });
    expect(first.response.status).toBe(201);
    reservation = first.data!;
    expect(reservation).toMatchObject({
      status: 'ON_HOLD',
      quantity: 3,
      total: { amount: 85400, currency: 'USD' },
    });
    const again = await as(acme).POST('/api/ota/reservations', { body, params: key });
    expect(again.response.status).toBe(201);
    expect(again.data).toEqual(first.data);
    const reused = await refusal(
      as(acme).POST('/api/ota/reservations', { body: { ...body, items: [body.items[0]!] }, params: key }),
    );
    expect(reused).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    const inv = await unwrap(as(acme).GET('/api/ota/inventory', {}));
    expect(inv.products[0]!.channels.ota).toMatchObject({ held: 3, available: 7 });
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
    const listed = await unwrap(
      as(acme).GET('/api/ota/tickets', { params: { query: { reservation_id: reservation.reservation_id } } }),
    );
    expect(listed.total).toBe(3);
    const confirmed = await unwrap(
      as(acme).GET('/api/ota/reservations/{reservation_id}', {
        params: { path: { reservation_id: reservation.reservation_id } },
      }),
    );
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.tickets.map((t) => t.ticket_code).sort()).toEqual(
      tickets.map((t) => t.ticket_code).sort(),
    );
    const inv = await unwrap(as(acme).GET('/api/ota/inventory', {}));
    expect(inv.products[0]!.channels.ota).toMatchObject({ held: 0, sold: 3, available: 7 });
  });

  it('never shows one partner what belongs to another', async () => {
    const code = tickets[0]!.ticket_code;
    expect(await refusal(as(other).GET('/api/ota/tickets/{ticket_code}', ticketPath(code)))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
    const foreignReservation = as(other).GET('/api/ota/reservations/{reservation_id}', {
      params: { path: { reservation_id: reservation.reservation_id } },
    });
    expect((await refusal(foreignReservation)).status).toBe(404);
    expect((await refusal(as(other).POST('/qr/{ticket_code}', ticketPath(code)))).status).toBe(404);
    const list = await unwrap(as(other).GET('/api/ota/tickets', {}));
    expect(list.total).toBe(0);
  });

  it('redeems entitlement by entitlement until the ticket is USED', async () => {
    const code = tickets[0]!.ticket_code;
    const qr = await unwrap(as(acme).POST('/qr/{ticket_code}', ticketPath(code)));
    expect(qr.image).toMatch(/^data:image\/png;base64,/);
    const scanner = createCruiseClient({ baseUrl: system.gateway, token: device.device_key });
    const scan = (function_code: string, nonce: string) =>
      unwrap(
        scanner.POST('/venue/redeem', {
          body: { qr_token: qr.qr_token, function_code, session_code: 'SAILING-0930', nonce },
        }),
      );
    const first = await scan('FERRY', 'n-1');
    expect(first).toMatchObject({
      result: 'ACCEPTED',
      ticket_status: 'ACTIVE',
      remaining: ['PREMIUM_LOUNGE', 'BUFFET_DINNER'],
    });
    expect(await scan('FERRY', 'n-1')).toEqual(first);
    const twice = await refusal(scan('FERRY', 'n-2'));
    expect(twice).toMatchObject({ status: 409, code: 'ALREADY_REDEEMED' });
    expect(twice.problem?.redeemed_at).toBe(first.redeemed_at);
    await scan('PREMIUM_LOUNGE', 'n-3');
    const last = await scan('BUFFET_DINNER', 'n-4');
    expect(last).toMatchObject({ ticket_status: 'USED', remaining: [] });

    const info = await unwrap(
      createCruiseClient({ baseUrl: system.gateway }).GET('/qr/{ticket_code}/info', ticketPath(code)),
    );
    expect(info).toMatchObject({ status: 'USED', remaining: [] });
    // Issuance learns of USED through the event stream.
    await eventually('USED in the partner ticket list', async () => {
      const list = await unwrap(as(acme).GET('/api/ota/tickets', { params: { query: { status: 'USED' } } }));
      return list.total === 1 && list.data[0]!.ticket_code === code ? true : undefined;
    });
    const used = await unwrap(as(acme).GET('/api/ota/tickets/{ticket_code}', ticketPath(code)));
    expect(used.used_at).toBeTruthy();
  });
});

describe('a partner pre-generates a batch for a reseller and activates a ticket when sold', () => {
  it('generates, streams, activates and redeems', async () => {
    const api = as(acme);
    const reseller = await unwrap(
      api.POST('/api/ota/resellers', {
        body: {
          name: 'Shanghai Seller',
          contact_email: 'ops@seller.example',
          region: 'Shanghai',
          commission_rate: 0.1,
        },
      }),
    );
    const accepted = await api.POST('/api/ota/tickets/bulk-generate', {
      body: {
        product_id: 106,
        quantity: 150,
        reseller_id: reseller.reseller_id,
        batch_reference: 'Q4-SHANGHAI',
        distribution: { region: 'Shanghai' },
      },
    });
    expect(accepted.response.status).toBe(202);
    const batch = accepted.data!;
    expect(batch).toMatchObject({
      status: 'QUEUED',
      quantity: 150,
      poll_url: `/api/ota/batches/${batch.batch_id}`,
    });
    const done = await waitForBatch(api, batch.batch_id, { intervalMs: 100 });
    expect(done).toMatchObject({ status: 'COMPLETED', generated: 150 });
    const foreignBatch = as(other).GET('/api/ota/batches/{batch_id}', {
      params: { path: { batch_id: batch.batch_id } },
    });
    expect((await refusal(foreignBatch)).status).toBe(404);

    const csv = await downloadBatchCsv(api, batch.batch_id);
    expect(csv.response.status).toBe(200);
    const [header, ...rows] = (await new Response(csv.body).text()).trim().split('\n');
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
    const activate = (body: typeof sale) =>
      api.POST('/api/ota/tickets/{ticket_code}/activate', { ...ticketPath(code), body });
    const ticket = await unwrap(activate(sale));
    expect(ticket).toMatchObject({
      status: 'ACTIVE',
      customer_type: 'child',
      reseller: { reseller_id: reseller.reseller_id },
    });
    expect((await refusal(activate({ ...sale, order_reference: 'SH-2' }))).code).toBe('TICKET_NOT_ACTIVE');
    const scanner = createCruiseClient({ baseUrl: system.gateway, token: device.device_key });
    const scan = await scanner.POST('/venue/redeem', { body: { ticket_code: code, function_code: 'FERRY' } });
    expect(scan.response.status).toBe(200);

    const inv = await unwrap(api.GET('/api/ota/inventory', {}));
    expect(inv.products[0]!.channels.reseller).toMatchObject({
      allocated: 200,
      held: 149,
      sold: 1,
      available: 50,
    });
  });
});
