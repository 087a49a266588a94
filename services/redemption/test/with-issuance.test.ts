// Redemption next to the real inventory and issuance apps (their NATS responders, outboxes and
// consumers, all on this file's PostgreSQL/Redis/NATS): tickets bought through the payment webhook,
// sold directly, pre-generated and activated, and cancelled, scanned at the gate; USED reaches the
// partner's ticket list in issuance.
import { randomUUID } from 'node:crypto';
import { buildApp as buildInventory, seedCatalogue, setAllocation } from '@cruise/inventory';
import { buildApp as buildIssuance, signPayment } from '@cruise/issuance';
import { type App, closeServiceDeps, createServiceDeps, type ServiceDeps, venueDate } from '@cruise/shared';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  adminHeaders,
  createDevice,
  eventually,
  partnerHeaders,
  type Running,
  startRedemption,
} from './support.ts';

let ctx: TestContext;
let inventoryDeps: ServiceDeps;
let issuanceDeps: ServiceDeps;
let inventory: App;
let issuance: App;
let r: Running;
let device: { device_id: string; device_key: string };
let partner: string;

beforeAll(async () => {
  ctx = await createTestContext({ EXPIRY_SWEEP_SECONDS: '3600' });
  inventoryDeps = await createServiceDeps(ctx.config, 'inventory');
  await seedCatalogue(inventoryDeps.pool);
  inventory = injectAsGateway(
    await buildInventory(ctx.config, inventoryDeps, { logger: false }),
    ctx.config.INTERNAL_TOKEN,
  );
  issuanceDeps = await createServiceDeps(ctx.config, 'issuance');
  issuance = injectAsGateway(
    await buildIssuance(ctx.config, issuanceDeps, { logger: false }),
    ctx.config.INTERNAL_TOKEN,
  );
  await Promise.all([inventory.ready(), issuance.ready()]);
  r = await startRedemption(ctx.config);
  device = await createDevice(r.app, ctx.config);
  partner = randomUUID();
  for (const channel of ['ota', 'reseller'] as const) {
    const res = await setAllocation(inventoryDeps.pool, {
      productId: 106,
      channel,
      partnerId: partner,
      allocated: 50,
    });
    if (!res.ok) throw new Error(res.detail);
  }
});
afterAll(async () => {
  await r?.close();
  await issuance?.close();
  await inventory?.close();
  if (issuanceDeps) await closeServiceDeps(issuanceDeps);
  if (inventoryDeps) await closeServiceDeps(inventoryDeps);
  await ctx?.cleanup();
});

interface IssuedTicket {
  ticket_code: string;
  status: string;
  entitlements: { function_code: string; redeemed_at: string | null }[];
  used_at: string | null;
}

function tomorrow(): string {
  const d = new Date(`${venueDate(new Date(), ctx.config.VENUE_TIMEZONE)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A partner's customer pays for a reservation: issuance issues ACTIVE tickets. */
async function buyTickets(quantity: number): Promise<IssuedTicket[]> {
  const reservation = await issuance.inject({
    method: 'POST',
    url: '/api/ota/reservations',
    headers: partnerHeaders(ctx.config, partner),
    payload: { product_id: 106, visit_date: tomorrow(), items: [{ customer_type: 'adult', quantity }] },
  });
  expect(reservation.statusCode, reservation.body).toBe(201);
  const raw = JSON.stringify({
    payment_id: `pay_${randomUUID()}`,
    reservation_id: reservation.json().reservation_id,
    status: 'SUCCEEDED',
    amount: reservation.json().total,
    paid_at: new Date().toISOString(),
  });
  const t = Math.floor(Date.now() / 1000);
  const paid = await issuance.inject({
    method: 'POST',
    url: '/payments/notify',
    headers: {
      'content-type': 'application/json',
      'x-payment-signature': signPayment(ctx.config.PAYMENT_WEBHOOK_SECRET, raw, t),
    },
    payload: raw,
  });
  expect(paid.statusCode, paid.body).toBe(200);
  return paid.json().tickets;
}

const scan = (payload: Record<string, unknown>) =>
  r.app.inject({
    method: 'POST',
    url: '/venue/redeem',
    headers: { authorization: `Bearer ${device.device_key}` },
    payload,
  });

async function issuanceTicket(code: string, partnerId: string | null = partner): Promise<IssuedTicket> {
  const res = await issuance.inject({
    url: `/api/ota/tickets/${code}`,
    headers: partnerHeaders(ctx.config, partnerId!),
  });
  return res.json();
}

it('a paid ticket scans at once, is redeemed to USED, and USED shows in the partner ticket list', async () => {
  const [ticket] = await buyTickets(1);
  const functions = ticket!.entitlements.map((e) => e.function_code);
  expect(functions.length).toBeGreaterThan(0);

  // Straight after the payment: the issued event may not be projected yet; issuance answers instead.
  const qr = await r.app.inject({
    method: 'POST',
    url: `/qr/${ticket!.ticket_code}`,
    headers: partnerHeaders(ctx.config, partner),
  });
  expect(qr.statusCode, qr.body).toBe(200);
  const stranger = await r.app.inject({
    method: 'POST',
    url: `/qr/${ticket!.ticket_code}`,
    headers: partnerHeaders(ctx.config, randomUUID()),
  });
  expect(stranger.statusCode).toBe(404);

  const redeemedAt: Record<string, string> = {};
  for (const [i, fc] of functions.entries()) {
    const res = await scan({ qr_token: qr.json().qr_token, function_code: fc });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      ticket_status: i === functions.length - 1 ? 'USED' : 'ACTIVE',
      remaining: functions.slice(i + 1),
    });
    redeemedAt[fc] = res.json().redeemed_at;
  }

  const used = await eventually(async () => {
    const list = await issuance.inject({
      url: '/api/ota/tickets?status=USED',
      headers: partnerHeaders(ctx.config, partner),
    });
    return (list.json().data as IssuedTicket[]).find((t) => t.ticket_code === ticket!.ticket_code);
  }, 'USED in issuance');
  expect(used.status).toBe('USED');
  expect(used.used_at).toBe(redeemedAt[functions.at(-1)!]);
  expect(used.entitlements).toEqual(
    functions.map((fc) => ({ function_code: fc, redeemed_at: redeemedAt[fc] })),
  );

  // Issuance now refuses to cancel it: redemption told it about the redemptions.
  const cancel = await issuance.inject({
    method: 'POST',
    url: `/api/ota/tickets/${ticket!.ticket_code}/cancel`,
    headers: partnerHeaders(ctx.config, partner),
  });
  expect(cancel.json().code).toBe('TICKET_NOT_CANCELLABLE');
});

it('a direct-channel ticket is redeemed the same way, by manual code', async () => {
  const order = await issuance.inject({
    method: 'POST',
    url: '/api/direct/orders',
    headers: adminHeaders(ctx.config),
    payload: { product_id: 106, visit_date: tomorrow(), items: [{ customer_type: 'adult', quantity: 1 }] },
  });
  expect(order.statusCode, order.body).toBe(201);
  const [ticket] = order.json().tickets as IssuedTicket[];
  const fc = ticket!.entitlements[0]!.function_code;
  const res = await scan({ ticket_code: ticket!.ticket_code, function_code: fc });
  expect(res.statusCode, res.body).toBe(200);
  const again = await scan({ ticket_code: ticket!.ticket_code, function_code: fc });
  expect(again.json()).toMatchObject({ code: 'ALREADY_REDEEMED', redeemed_at: res.json().redeemed_at });
});

it('a cancelled ticket is refused at the gate once issuance has cancelled it', async () => {
  const [ticket] = await buyTickets(1);
  const qr = await r.app.inject({
    method: 'POST',
    url: `/qr/${ticket!.ticket_code}`,
    headers: partnerHeaders(ctx.config, partner),
  });
  expect(qr.statusCode).toBe(200);
  const cancel = await issuance.inject({
    method: 'POST',
    url: `/api/ota/tickets/${ticket!.ticket_code}/cancel`,
    headers: partnerHeaders(ctx.config, partner),
  });
  expect(cancel.statusCode, cancel.body).toBe(200);
  await eventually(async () => {
    const info = await r.app.inject(`/qr/${ticket!.ticket_code}/info`);
    return info.json().status === 'CANCELLED';
  }, 'the cancellation to reach redemption');
  const res = await scan({
    qr_token: qr.json().qr_token,
    function_code: ticket!.entitlements[0]!.function_code,
  });
  expect(res.statusCode).toBe(409);
  expect(res.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: 'CANCELLED' });
});

it('a pre-generated ticket is refused until activated, and scans right after activation', async () => {
  const reseller = await issuance.inject({
    method: 'POST',
    url: '/api/ota/resellers',
    headers: partnerHeaders(ctx.config, partner),
    payload: { name: 'Pier Tours' },
  });
  expect(reseller.statusCode, reseller.body).toBe(201);
  const batch = await issuance.inject({
    method: 'POST',
    url: '/api/ota/tickets/bulk-generate',
    headers: partnerHeaders(ctx.config, partner),
    payload: { product_id: 106, quantity: 2, reseller_id: reseller.json().reseller_id },
  });
  expect(batch.statusCode, batch.body).toBe(202);
  const codes = await eventually(async () => {
    const list = await issuance.inject({
      url: `/api/ota/tickets?batch_id=${batch.json().batch_id}`,
      headers: partnerHeaders(ctx.config, partner),
    });
    const data = list.json().data as IssuedTicket[];
    return data.length === 2 ? data : null;
  }, 'the batch to be generated');
  const [pre] = codes;
  const fc = pre!.entitlements[0]!.function_code;
  const refused = await scan({ ticket_code: pre!.ticket_code, function_code: fc });
  expect(refused.statusCode).toBe(409);
  expect(refused.json()).toMatchObject({ code: 'TICKET_NOT_ACTIVE', ticket_status: 'PRE_GENERATED' });

  const activated = await issuance.inject({
    method: 'POST',
    url: `/api/ota/tickets/${pre!.ticket_code}/activate`,
    headers: partnerHeaders(ctx.config, partner),
    payload: {
      customer_type: 'adult',
      customer: { name: 'Li Wei' },
      reseller_id: reseller.json().reseller_id,
    },
  });
  expect(activated.statusCode, activated.body).toBe(200);
  const res = await scan({ ticket_code: pre!.ticket_code, function_code: fc });
  expect(res.statusCode, res.body).toBe(200);
  const info = await issuanceTicket(pre!.ticket_code);
  expect(info.status).toBe('ACTIVE');
});
