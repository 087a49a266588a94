// End to end over OCTO: the services as real processes behind the gateway. A reseller books and
// confirms over OCTO, the venue scanner redeems the ticket codes it was given, and the booking reads
// REDEEMED; the same reservation and tickets are seen through /api/ota/*, and billing counts the sale.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { zBooking } from '@octocloud/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  type System,
  startSystem,
} from '../resilience/system.ts';

let ctx: TestContext;
let system: System;
let partner: Partner;
let device: { device_id: string; device_key: string };

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

const get = (path: string) => call('GET', `${system.gateway}${path}`, { token: partner.api_key });
const post = (path: string, body: unknown = {}) =>
  call('POST', `${system.gateway}${path}`, { token: partner.api_key, body });

/** The body of an OCTO booking response, checked with OCTO's schema. */
// biome-ignore lint/suspicious/noExplicitAny: the body is checked against zBooking right here
function booking(res: Awaited<ReturnType<typeof call>>, what: string): any {
  const body = expectStatus(res, 200, what);
  const checked = zBooking.safeParse(body);
  if (!checked.success)
    throw new Error(`${what}: not an OCTO booking: ${JSON.stringify(checked.error.issues)}`);
  return body;
}

beforeAll(async () => {
  ctx = await createTestContext();
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    // Five processes booting on a shared, loaded machine; readiness is what is awaited, not a speed claim.
    readyTimeoutMs: 180_000,
  });
  const op = operator(system);
  partner = await op.createPartner('OCTO Reseller', 1000);
  await op.allocate(partner.partner_id, 106, 'ota', 10);
  device = await op.createDevice('Pier 3', 'Gate OCTO');
}, 600_000);

afterAll(async () => {
  await system?.stop();
  await ctx?.cleanup();
});

describe('an OCTO booking from hold to the gate', () => {
  let uuid: string;
  let reservationId: string;
  let codes: string[];

  it('books on hold and confirms on account; the ticket codes come as QR codes', async () => {
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const availability = expectStatus(
      await post('/octo/availability', {
        productId: '106',
        optionId: 'DEFAULT',
        localDateStart: day,
        localDateEnd: day,
      }),
      200,
      'availability',
    );
    expect(availability[0]).toMatchObject({ status: 'AVAILABLE', vacancies: 10 });
    const held = booking(
      await post('/octo/bookings', {
        productId: '106',
        optionId: 'DEFAULT',
        availabilityId: availability[0].id,
        resellerReference: 'E2E-OCTO-1',
        unitItems: [{ unitId: 'adult' }, { unitId: 'child' }],
      }),
      'book',
    );
    expect(held.status).toBe('ON_HOLD');
    uuid = held.uuid;
    reservationId = held.id;
    const confirmed = booking(
      await post(`/octo/bookings/${uuid}/confirm`, {
        contact: { fullName: 'Grace Hopper', emailAddress: 'grace@example.com', locales: ['en'] },
      }),
      'confirm',
    );
    expect(confirmed.status).toBe('CONFIRMED');
    codes = confirmed.unitItems.map(
      (u: { ticket: { deliveryOptions: { deliveryFormat: string; deliveryValue: string }[] } }) => {
        expect(u.ticket.deliveryOptions[0]?.deliveryFormat).toBe('QRCODE');
        return u.ticket.deliveryOptions[0]!.deliveryValue;
      },
    );
    expect(codes).toHaveLength(2);
  });

  it('the same reservation and tickets through /api/ota/*', async () => {
    const reservation = expectStatus(await get(`/api/ota/reservations/${reservationId}`), 200, 'reservation');
    expect(reservation).toMatchObject({ status: 'CONFIRMED', quantity: 2, reseller_reference: 'E2E-OCTO-1' });
    expect(reservation.tickets.map((t: { ticket_code: string }) => t.ticket_code).sort()).toEqual(
      [...codes].sort(),
    );
    for (const code of codes) {
      const ticket = expectStatus(await get(`/api/ota/tickets/${code}`), 200, 'ticket');
      expect(ticket).toMatchObject({ status: 'ACTIVE', channel: 'ota', reservation_id: reservationId });
    }
  });

  it('the gate redeems every entitlement; the booking reads REDEEMED and can no longer be cancelled', async () => {
    for (const code of codes) {
      const ticket = expectStatus(await get(`/api/ota/tickets/${code}`), 200, 'ticket');
      for (const { function_code } of ticket.entitlements as { function_code: string }[]) {
        const qr = expectStatus(await post(`/qr/${code}`), 200, 'qr');
        const scan = await call('POST', `${system.gateway}/venue/redeem`, {
          token: device.device_key,
          body: { qr_token: qr.qr_token, function_code, nonce: `${code}-${function_code}` },
        });
        expect(expectStatus(scan, 200, `redeem ${function_code}`).result).toBe('ACCEPTED');
      }
    }
    const redeemed = await eventually('the booking to read REDEEMED', async () => {
      const b = booking(await get(`/octo/bookings/${uuid}`), 'get booking');
      return b.status === 'REDEEMED' ? b : undefined;
    });
    expect(redeemed.utcRedeemedAt).not.toBeNull();
    for (const item of redeemed.unitItems) {
      expect(item.status).toBe('REDEEMED');
      expect(item.utcRedeemedAt).not.toBeNull();
      expect(item.ticket.utcRedeemedAt).toBe(item.utcRedeemedAt);
    }
    expect(redeemed.cancellable).toBe(false);
    const cancel = await post(`/octo/bookings/${uuid}/cancel`, {});
    expect(cancel.status).toBe(400);
    expect(cancel.body).toMatchObject({ error: 'UNPROCESSABLE_ENTITY' });
    for (const code of codes) {
      expect(expectStatus(await get(`/api/ota/tickets/${code}`), 200, 'ticket').status).toBe('USED');
    }
  });

  it('billing counts the sale like a paid reservation', async () => {
    const reservation = expectStatus(await get(`/api/ota/reservations/${reservationId}`), 200, 'reservation');
    const from = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const billing = expectStatus(await get(`/api/ota/billing/summary?from=${from}&to=${to}`), 200, 'billing');
    expect(billing.totals).toMatchObject({ issued: 2, activated: 2, used: 2, cancelled: 0 });
    expect(billing.totals.gross).toEqual(reservation.total);
    const product = billing.by_product.find((p: { product_id: number }) => p.product_id === 106);
    expect(product.issued).toBe(2);
  });

  it('every OCTO call was audited', async () => {
    const audit = expectStatus(
      await call('GET', `${system.gateway}/api/admin/audit?partner_id=${partner.partner_id}&page_size=200`, {
        token: system.secrets.adminToken,
      }),
      200,
      'audit',
    );
    const paths = audit.data.map((e: { path: string }) => e.path);
    expect(paths).toContain('/octo/bookings');
    expect(paths).toContain(`/octo/bookings/${uuid}/confirm`);
  });
});
