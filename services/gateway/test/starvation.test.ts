// The findings of issue 9 (3) reproduced against the real services behind the gateway: anonymous
// calls and refused credentials from one IP must never starve a validly signed payment webhook or a
// valid scanner on that IP, whichever door (gateway or redemption port) they use; a concurrent burst
// of bad device keys passes exactly the failed-credentials budget, through the gateway as directly.
import { buildApp as buildInventory, seedCatalogue } from '@cruise/inventory';
import { buildApp as buildIssuance } from '@cruise/issuance';
import { buildApp as buildRedemption } from '@cruise/redemption';
import {
  type App,
  allRoutes,
  closeServiceDeps,
  createServiceDeps,
  type ServiceDeps,
  signPayment,
  venueDate,
} from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, ADMIN_TOKEN, bearer, createPartner, type Gateway, startGateway } from './harness.ts';

const FAILED_LIMIT = 20;

let ctx: TestContext;
let gw: Gateway;
let redemptionUrl: string;
const services: { app: App; deps: ServiceDeps }[] = [];

async function listen(
  name: string,
  build: (c: TestContext['config'], d: ServiceDeps, o: { logger: boolean }) => Promise<App>,
): Promise<{ url: string; deps: ServiceDeps }> {
  const deps = await createServiceDeps(ctx.config, name);
  const app = await build(ctx.config, deps, { logger: false });
  services.push({ app, deps });
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), deps };
}

beforeAll(async () => {
  // The anonymous budget keeps its default (60/min), as in the finding.
  ctx = await createTestContext({
    ADMIN_TOKEN,
    EXPIRY_SWEEP_SECONDS: '3600',
    FAILED_AUTH_RATE_LIMIT_PER_MINUTE: String(FAILED_LIMIT),
  });
  const inventory = await listen('inventory', buildInventory);
  await seedCatalogue(inventory.deps.pool);
  const issuance = await listen('issuance', buildIssuance);
  const redemption = await listen('redemption', buildRedemption);
  redemptionUrl = redemption.url;
  gw = await startGateway(
    {
      ...ctx.config,
      INVENTORY_URL: inventory.url,
      ISSUANCE_URL: issuance.url,
      REDEMPTION_URL: redemption.url,
    },
    allRoutes,
  );
}, 120_000);

afterAll(async () => {
  await gw?.close();
  for (const s of services.reverse()) {
    await s.app.close();
    await closeServiceDeps(s.deps);
  }
  await ctx?.cleanup();
});

function tomorrow(): string {
  const d = new Date(`${venueDate(new Date(), ctx.config.VENUE_TIMEZONE)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

async function reservations(n: number) {
  const partner = await createPartner(gw.app, { name: 'Starved OTA', rate_limit_per_minute: 1000 });
  const alloc = await gw.app.inject({
    method: 'PUT',
    url: `/api/admin/partners/${partner.partner_id}/allocations`,
    headers: ADMIN,
    payload: { product_id: 106, channel: 'ota', allocated: 50 },
  });
  expect(alloc.statusCode, alloc.body).toBe(200);
  const made: { reservation_id: string; total: unknown }[] = [];
  for (let i = 0; i < n; i++) {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/ota/reservations',
      headers: bearer(partner.api_key),
      payload: { product_id: 106, visit_date: tomorrow(), items: [{ customer_type: 'adult', quantity: 1 }] },
    });
    expect(res.statusCode, res.body).toBe(201);
    made.push(res.json());
  }
  return made;
}

function payWebhook(r: { reservation_id: string; total: unknown }, paymentId: string, ip: string) {
  const raw = JSON.stringify({
    payment_id: paymentId,
    reservation_id: r.reservation_id,
    status: 'SUCCEEDED',
    amount: r.total,
    paid_at: new Date().toISOString(),
  });
  return gw.app.inject({
    method: 'POST',
    url: '/payments/notify',
    headers: {
      'content-type': 'application/json',
      'x-payment-signature': signPayment(
        ctx.config.PAYMENT_WEBHOOK_SECRET,
        raw,
        Math.floor(Date.now() / 1000),
      ),
    },
    payload: raw,
    remoteAddress: ip,
  });
}

describe('valid callers are never starved by their neighbours', () => {
  it('GET /qr/x/info ×61 and bad signatures, then 5 signed webhooks → 5×200', async () => {
    const ip = '10.60.0.1';
    const toPay = await reservations(5);
    const infos: number[] = [];
    for (let i = 0; i < 61; i++) {
      infos.push((await gw.app.inject({ method: 'GET', url: '/qr/x/info', remoteAddress: ip })).statusCode);
    }
    expect(infos.at(-1)).toBe(429);
    for (let i = 0; i <= FAILED_LIMIT; i++) {
      await gw.app.inject({
        method: 'POST',
        url: '/payments/notify',
        headers: { 'content-type': 'application/json', 'x-payment-signature': 't=1,v1=00' },
        payload: '{}',
        remoteAddress: ip,
      });
    }
    for (const [i, r] of toPay.entries()) {
      const res = await payWebhook(r, `pay_starved_${i}`, ip);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().reservation_status).toBe('CONFIRMED');
    }
  });

  it('3 valid scans after bad keys and anonymous calls spent the IP budgets → accepted, through the gateway and directly', async () => {
    const [r1, r2] = await reservations(2);
    const paid1 = await payWebhook(r1!, 'pay_scans_1', '10.60.0.9');
    const paid2 = await payWebhook(r2!, 'pay_scans_2', '10.60.0.9');
    const codes = [paid1.json().tickets[0].ticket_code, paid2.json().tickets[0].ticket_code];
    const device = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/devices',
      headers: ADMIN,
      payload: { venue: 'Pier 3', name: 'Gate on guest Wi-Fi' },
    });
    const deviceKey = device.json().device_key as string;

    // Guests on the venue Wi-Fi (same address as the gate) spend both budgets, through the gateway…
    const ip = '127.0.0.1';
    for (let i = 0; i < 61; i++) await gw.app.inject({ method: 'GET', url: '/qr/x/info', remoteAddress: ip });
    for (let i = 0; i <= FAILED_LIMIT; i++) {
      await gw.app.inject({
        method: 'POST',
        url: '/venue/redeem',
        headers: bearer(`dev_guess${i}`),
        payload: { ticket_code: 'X', function_code: 'FERRY' },
        remoteAddress: ip,
      });
    }
    // …which are the same budgets on the redemption port (one budget per client, whatever the door).
    const direct = (key: string, body: unknown) =>
      fetch(`${redemptionUrl}/venue/redeem`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await direct('dev_guess', { ticket_code: 'X', function_code: 'FERRY' });
    expect(refused.status).toBe(429);
    expect((await fetch(`${redemptionUrl}/qr/x/info`)).status).toBe(429);

    const scans = [
      () =>
        gw.app.inject({
          method: 'POST',
          url: '/venue/redeem',
          headers: bearer(deviceKey),
          payload: { ticket_code: codes[0], function_code: 'FERRY' },
          remoteAddress: ip,
        }),
      () =>
        gw.app.inject({
          method: 'POST',
          url: '/venue/redeem',
          headers: bearer(deviceKey),
          payload: { ticket_code: codes[1], function_code: 'FERRY' },
          remoteAddress: ip,
        }),
    ];
    for (const s of scans) {
      const res = await s();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().result).toBe('ACCEPTED');
    }
    // The third straight to the redemption port, as scanners may.
    const third = await direct(deviceKey, { ticket_code: codes[0], function_code: 'PREMIUM_LOUNGE' });
    const body = (await third.json()) as { result: string };
    expect(third.status, JSON.stringify(body)).toBe(200);
    expect(body.result).toBe('ACCEPTED');
  });

  it('a concurrent burst of bad device keys through the gateway passes exactly the budget of its client', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        gw.app.inject({
          method: 'POST',
          url: '/venue/redeem',
          headers: bearer(`dev_burst${i}`),
          payload: { ticket_code: 'X', function_code: 'FERRY' },
          remoteAddress: '10.60.0.7',
        }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(FAILED_LIMIT);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(50 - FAILED_LIMIT);
    // Charged to that client (named by the gateway), not to the gateway's own address.
    const elsewhere = await gw.app.inject({
      method: 'POST',
      url: '/venue/redeem',
      headers: bearer('dev_other'),
      payload: { ticket_code: 'X', function_code: 'FERRY' },
      remoteAddress: '10.60.0.8',
    });
    expect(elsewhere.statusCode).toBe(401);
  });
});
