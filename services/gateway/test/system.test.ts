// The gateway in front of the real inventory, issuance and redemption apps (listening on real ports,
// talking over this file's PostgreSQL/Redis/NATS): a partner's whole journey through the public edge.
import { buildApp as buildInventory, seedCatalogue, seedPartnerPools } from '@cruise/inventory';
import { buildApp as buildIssuance, signPayment } from '@cruise/issuance';
import { buildApp as buildRedemption } from '@cruise/redemption';
import {
  type App,
  allRoutes,
  closeServiceDeps,
  createServiceDeps,
  type ServiceDeps,
  venueDate,
} from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoPartner } from '../src/index.ts';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  createPartner,
  type Gateway,
  pollUntil,
  startGateway,
} from './harness.ts';

let ctx: TestContext;
let gw: Gateway;
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
  ctx = await createTestContext({
    ADMIN_TOKEN,
    EXPIRY_SWEEP_SECONDS: '3600',
    PUBLIC_RATE_LIMIT_PER_MINUTE: '1000',
  });
  const inventory = await listen('inventory', buildInventory);
  await seedCatalogue(inventory.deps.pool);
  const issuance = await listen('issuance', buildIssuance);
  const redemption = await listen('redemption', buildRedemption);
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

describe('through the gateway, against the real services', () => {
  it('reserve → pay (signed webhook) → QR → scan, with partner isolation and audit', async () => {
    const partner = await createPartner(gw.app, { name: 'Journey OTA' });
    const alloc = await gw.app.inject({
      method: 'PUT',
      url: `/api/admin/partners/${partner.partner_id}/allocations`,
      headers: ADMIN,
      payload: { product_id: 106, channel: 'ota', allocated: 20 },
    });
    expect(alloc.statusCode, alloc.body).toBe(200);
    const auth = bearer(partner.api_key);

    const inventory = await gw.app.inject({
      method: 'GET',
      url: `/api/ota/inventory?visit_date=${tomorrow()}`,
      headers: auth,
    });
    expect(inventory.statusCode, inventory.body).toBe(200);
    expect(inventory.headers['ratelimit-limit']).toBe('100');

    const reservation = await gw.app.inject({
      method: 'POST',
      url: '/api/ota/reservations',
      headers: { ...auth, 'idempotency-key': 'journey-1' },
      payload: { product_id: 106, visit_date: tomorrow(), items: [{ customer_type: 'adult', quantity: 2 }] },
    });
    expect(reservation.statusCode, reservation.body).toBe(201);
    const r = reservation.json();
    expect(r.status).toBe('ON_HOLD');

    // Another partner cannot see it.
    const stranger = await createPartner(gw.app, { name: 'Stranger OTA' });
    const peek = await gw.app.inject({
      method: 'GET',
      url: `/api/ota/reservations/${r.reservation_id}`,
      headers: bearer(stranger.api_key),
    });
    expect(peek.statusCode).toBe(404);

    // The provider's exact bytes reach issuance, whose signature check passes.
    const raw = `{"payment_id":"pay_gw_1", "reservation_id":"${r.reservation_id}","status":"SUCCEEDED","amount":${JSON.stringify(r.total)},"paid_at":"${new Date().toISOString()}"}`;
    const paid = await gw.app.inject({
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
    });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json().reservation_status).toBe('CONFIRMED');
    const [ticket] = paid.json().tickets as {
      ticket_code: string;
      entitlements: { function_code: string }[];
    }[];

    const forged = await gw.app.inject({
      method: 'POST',
      url: '/payments/notify',
      headers: { 'content-type': 'application/json', 'x-payment-signature': 't=1,v1=00' },
      payload: raw,
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('INVALID_SIGNATURE');

    const qr = await gw.app.inject({ method: 'POST', url: `/qr/${ticket!.ticket_code}`, headers: auth });
    expect(qr.statusCode, qr.body).toBe(200);
    const info = await gw.app.inject({ method: 'GET', url: `/qr/${ticket!.ticket_code}/info` });
    expect(info.statusCode, info.body).toBe(200);

    const device = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/devices',
      headers: ADMIN,
      payload: { venue: 'Pier 3', name: 'Gate A' },
    });
    expect(device.statusCode, device.body).toBe(201);
    const scan = await gw.app.inject({
      method: 'POST',
      url: '/venue/redeem',
      headers: bearer(device.json().device_key),
      payload: { qr_token: qr.json().qr_token, function_code: ticket!.entitlements[0]!.function_code },
    });
    expect(scan.statusCode, scan.body).toBe(200);
    expect(scan.json().result).toBe('ACCEPTED');
    const badDevice = await gw.app.inject({
      method: 'POST',
      url: '/venue/redeem',
      headers: bearer('not-a-device-key'),
      payload: { qr_token: qr.json().qr_token, function_code: ticket!.entitlements[0]!.function_code },
    });
    expect(badDevice.statusCode).toBe(401);

    // Malformed JSON is refused by the owning service as 400 problem+json.
    const malformed = await gw.app.inject({
      method: 'POST',
      url: '/api/ota/reservations',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"product_id": 106,',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toContain('application/problem+json');
    expect(malformed.json().code).toBe('VALIDATION_FAILED');

    const audit = async () =>
      (
        await gw.app.inject({
          method: 'GET',
          url: `/api/admin/audit?partner_id=${partner.partner_id}`,
          headers: ADMIN,
        })
      ).json();
    await pollUntil(async () => (await audit()).total >= 4, 10_000);
    const routes = (await audit()).data.map((e: { route: string }) => e.route);
    expect(routes).toEqual(
      expect.arrayContaining(['/api/ota/inventory', '/api/ota/reservations', '/qr/:ticket_code']),
    );
  });

  it('the demo partner seeded by the gateway can use the pools seeded for it in inventory', async () => {
    const demo = await seedDemoPartner(gw.deps.pool);
    expect(demo.api_key).not.toBeNull();
    const inventoryDeps = services[0]!.deps;
    await seedPartnerPools(inventoryDeps.pool, demo.partner_id);
    const res = await gw.app.inject({
      method: 'GET',
      url: '/api/ota/inventory',
      headers: bearer(demo.api_key!),
    });
    expect(res.statusCode, res.body).toBe(200);
    const premium = res.json().products.find((p: { product_id: number }) => p.product_id === 106);
    expect(premium.channels.ota.allocated).toBe(2000);
  });
});
