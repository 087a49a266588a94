// QR codes and public ticket info: who may get a token for which ticket, and what the token looks like.
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  adminHeaders,
  partnerHeaders,
  projectTickets,
  type Running,
  snapshot,
  startRedemption,
} from './support.ts';

let ctx: TestContext;
let r: Running;

beforeAll(async () => {
  ctx = await createTestContext();
  r = await startRedemption(ctx.config);
});
afterAll(async () => {
  await r?.close();
  await ctx?.cleanup();
});

it('a partner gets a QR code for its own ticket: short token, PNG image, 30-minute expiry', async () => {
  const partner = randomUUID();
  const [t] = await projectTickets(r, ctx.config, [snapshot({ partner_id: partner })]);
  const before = Date.now();
  const res = await r.app.inject({
    method: 'POST',
    url: `/qr/${t!.ticket_code}`,
    headers: partnerHeaders(ctx.config, partner),
  });
  const after = Date.now();
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  expect(body.ticket_code).toBe(t!.ticket_code);
  expect(body.qr_token).toMatch(/^[0-9A-Z.]+$/); // QR alphanumeric mode: the densest code for the length
  expect(body.qr_token.length).toBeLessThan(80);
  // Expiry is kept in whole seconds: within the second before "now + 30 min".
  const expires = Date.parse(body.expires_at);
  expect(expires).toBeGreaterThan(before + 1_800_000 - 1_000);
  expect(expires).toBeLessThanOrEqual(after + 1_800_000);
  expect(body.image).toMatch(/^data:image\/png;base64,/);
  const png = Buffer.from(body.image.slice('data:image/png;base64,'.length), 'base64');
  expect(png.subarray(1, 4).toString()).toBe('PNG');
});

it("another partner's ticket is 404, never revealing that it exists; the operator may issue for any", async () => {
  const owner = randomUUID();
  const [t] = await projectTickets(r, ctx.config, [snapshot({ partner_id: owner })]);
  const [direct] = await projectTickets(r, ctx.config, [snapshot({ partner_id: null, channel: 'direct' })]);
  for (const code of [t!.ticket_code, direct!.ticket_code]) {
    const res = await r.app.inject({
      method: 'POST',
      url: `/qr/${code}`,
      headers: partnerHeaders(ctx.config, randomUUID()),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  }
  const unknownForPartner = await r.app.inject({
    method: 'POST',
    url: `/qr/${t!.ticket_code}`,
    headers: partnerHeaders(ctx.config, randomUUID()),
  });
  const ownerRes = await r.app.inject({
    method: 'POST',
    url: `/qr/${t!.ticket_code}`,
    headers: partnerHeaders(ctx.config, owner),
  });
  expect(unknownForPartner.json().detail).toBe('No such ticket');
  expect(ownerRes.statusCode).toBe(200);
  for (const code of [t!.ticket_code, direct!.ticket_code]) {
    const res = await r.app.inject({ method: 'POST', url: `/qr/${code}`, headers: adminHeaders(ctx.config) });
    expect(res.statusCode).toBe(200);
  }
});

it('a QR code needs a partner key or the operator token (caller headers without a valid signature are refused)', async () => {
  const [t] = await projectTickets(r, ctx.config, [snapshot()]);
  const anonymous = await r.app.inject({ method: 'POST', url: `/qr/${t!.ticket_code}` });
  expect(anonymous.statusCode).toBe(401);
  const forged = await r.app.inject({
    method: 'POST',
    url: `/qr/${t!.ticket_code}`,
    headers: {
      'x-caller-kind': 'admin',
      'x-internal-timestamp': String(Date.now()),
      'x-internal-signature': 'not-the-gateway-signature',
    },
  });
  expect(forged.statusCode).toBe(401);
});

it('ticket info is public and shows status, product and entitlements', async () => {
  const [t] = await projectTickets(r, ctx.config, [snapshot({ product_id: 107, product_name: 'Pet Plan' })]);
  const res = await r.app.inject(`/qr/${t!.ticket_code}/info`);
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({
    ticket_code: t!.ticket_code,
    status: 'ACTIVE',
    product_id: 107,
    product_name: 'Pet Plan',
    entitlements: [
      { function_code: 'FERRY', redeemed_at: null },
      { function_code: 'LUNCH', redeemed_at: null },
      { function_code: 'SHOW', redeemed_at: null },
    ],
    remaining: ['FERRY', 'LUNCH', 'SHOW'],
  });
  const tooLong = await r.app.inject(`/qr/${'A'.repeat(65)}/info`);
  expect(tooLong.statusCode).toBe(400);
});
