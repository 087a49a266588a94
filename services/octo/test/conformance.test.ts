// OCTO conformance: what the OCTO validator checks, replayed through the real gateway against real
// inventory, issuance and the adapter, every response checked with @octocloud/types' schemas.
import { randomUUID } from 'node:crypto';
import {
  zAvailability,
  zAvailabilityCalendar,
  zBaseError,
  zBooking,
  zErrorInvalidAvailabilityId,
  zErrorInvalidBookingUuid,
  zErrorInvalidOptionId,
  zErrorInvalidProductId,
  zErrorInvalidUnitId,
  zProduct,
  zSupplier,
} from '@octocloud/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createPartner, type OctoSystem, startOctoSystem, venueDay } from './harness.ts';

let sys: OctoSystem;
let octo: ReturnType<typeof client>;
let partnerId: string;
let apiKey: string;
const ALLOCATION_106 = 50;

type Res = Awaited<ReturnType<typeof octo.get>>;
interface Checkable {
  safeParse(v: unknown): { success: boolean; error?: unknown };
}
/** The response has `status` and a body OCTO's schema accepts; returns the body. */
function expectOcto(res: Res, status: number, schema: Checkable) {
  expect(res.status, res.text).toBe(status);
  const checked = schema.safeParse(res.body);
  expect(checked.success, `${JSON.stringify(checked.error)} in ${res.text.slice(0, 400)}`).toBe(true);
  return res.body;
}
const each = (schema: Checkable): Checkable => ({
  safeParse: (v: unknown) =>
    Array.isArray(v)
      ? (v.map((i) => schema.safeParse(i)).find((r) => !r.success) ?? { success: true })
      : { success: false, error: 'not an array' },
});
/** An OCTO error: the status, the code, the offending field echoed. */
function expectOctoError(res: Res, status: number, error: string, schema: Checkable = zBaseError) {
  const body = expectOcto(res, status, schema);
  expect(body.error).toBe(error);
  expect(typeof body.errorMessage).toBe('string');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return body;
}

async function availabilityIdFor(date: string): Promise<string> {
  const res = await octo.post('/octo/availability', {
    productId: '106',
    optionId: 'DEFAULT',
    localDateStart: date,
    localDateEnd: date,
  });
  return expectOcto(res, 200, each(zAvailability))[0].id;
}

async function restReservation(id: string) {
  const res = await octo.get(`/api/ota/reservations/${id}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function pool106() {
  const res = await octo.get('/api/ota/inventory');
  return res.body.products.find((p: { product_id: number }) => p.product_id === 106).channels.ota;
}

beforeAll(async () => {
  sys = await startOctoSystem();
  const partner = await createPartner(sys, { 106: ALLOCATION_106, 107: 20, 108: 1 });
  partnerId = partner.partner_id;
  apiKey = partner.api_key;
  octo = client(sys, partner.api_key);
}, 60_000);
afterAll(async () => {
  await sys?.close();
});

describe('supplier and products', () => {
  it('GET /octo/supplier', async () => {
    const body = expectOcto(await octo.get('/octo/supplier'), 200, zSupplier);
    expect(body.endpoint).toMatch(/\/octo$/);
  });

  it('GET /octo/products: 106-108, option DEFAULT, units from the customer types', async () => {
    const products = expectOcto(await octo.get('/octo/products'), 200, each(zProduct));
    expect(products.map((p: { id: string }) => p.id)).toEqual(['106', '107', '108']);
    for (const p of products) {
      expect(p.availabilityType).toBe('OPENING_HOURS');
      expect(p.options.map((o: { id: string }) => o.id)).toEqual(['DEFAULT']);
    }
    const units = (id: string) =>
      products
        .find((p: { id: string }) => p.id === id)
        .options[0].units.map((u: { id: string; type: string }) => [u.id, u.type]);
    expect(units('106')).toEqual([
      ['adult', 'ADULT'],
      ['child', 'CHILD'],
      ['elderly', 'SENIOR'],
      ['student', 'STUDENT'],
    ]);
    expect(units('107')).toContainEqual(['family', 'FAMILY']);
    expect(units('108')).toContainEqual(['vip', 'OTHER']);
    // Without the capability, no prices.
    expect(products[0].options[0].units[0].pricingFrom).toBeUndefined();
  });

  it('GET /octo/products/{id} and an invalid id', async () => {
    const product = expectOcto(await octo.get('/octo/products/107'), 200, zProduct);
    expect(product.id).toBe('107');
    const bad = expectOctoError(
      await octo.get('/octo/products/999'),
      400,
      'INVALID_PRODUCT_ID',
      zErrorInvalidProductId,
    );
    expect(bad.productId).toBe('999');
    const junk = expectOctoError(await octo.get('/octo/products/abc'), 400, 'INVALID_PRODUCT_ID');
    expect(junk.productId).toBe('abc');
  });

  it('octo/pricing: retail prices from the price matrix, header echoed', async () => {
    const res = await octo.get('/octo/products/106', { 'octo-capabilities': 'octo/pricing' });
    const product = expectOcto(res, 200, zProduct);
    expect(res.headers['octo-capabilities']).toBe('octo/pricing');
    expect(product.defaultCurrency).toBe('USD');
    const adult = product.options[0].units.find((u: { id: string }) => u.id === 'adult');
    expect(adult.pricingFrom[0]).toMatchObject({ retail: 28800, currency: 'USD', currencyPrecision: 2 });
    expect((await octo.get('/octo/products/106')).headers['octo-capabilities']).toBeUndefined();
  });
});

describe('availability', () => {
  it('calendar: one day per date, vacancies from the ota pool, past days CLOSED', async () => {
    const start = venueDay(sys.config, -1);
    const end = venueDay(sys.config, 5);
    const res = await octo.post('/octo/availability/calendar', {
      productId: '106',
      optionId: 'DEFAULT',
      localDateStart: start,
      localDateEnd: end,
    });
    const days = expectOcto(res, 200, each(zAvailabilityCalendar));
    expect(days).toHaveLength(7);
    expect(days[0]).toMatchObject({ localDate: start, status: 'CLOSED', available: false });
    const pool = await pool106();
    for (const day of days.slice(1)) {
      expect(day).toMatchObject({
        status: 'AVAILABLE',
        available: true,
        vacancies: pool.available,
        capacity: ALLOCATION_106,
      });
    }
  });

  it('calendar with pricing carries the day type price', async () => {
    const res = await octo.post(
      '/octo/availability/calendar',
      {
        productId: '106',
        optionId: 'DEFAULT',
        localDateStart: venueDay(sys.config, 1),
        localDateEnd: venueDay(sys.config, 7),
      },
      { 'octo-capabilities': 'octo/pricing' },
    );
    const days = expectOcto(res, 200, each(zAvailabilityCalendar));
    const amounts = new Set(
      days.map(
        (d: { unitPricingFrom: { unitId: string; retail: number }[] }) =>
          d.unitPricingFrom.find((u) => u.unitId === 'adult')!.retail,
      ),
    );
    expect(amounts).toEqual(new Set([28800, 31800])); // a week holds weekdays and a weekend
    expect(res.headers['octo-capabilities']).toBe('octo/pricing');
  });

  it('by dates and by ids give the same availabilities', async () => {
    const from = venueDay(sys.config, 1);
    const to = venueDay(sys.config, 3);
    const byDates = expectOcto(
      await octo.post('/octo/availability', {
        productId: '106',
        optionId: 'DEFAULT',
        localDateStart: from,
        localDateEnd: to,
      }),
      200,
      each(zAvailability),
    );
    expect(byDates).toHaveLength(3);
    expect(byDates[0].id).toMatch(new RegExp(`^${from}T00:00:00[+-]\\d{2}:\\d{2}$`));
    expect(byDates[0]).toMatchObject({ allDay: true, localDateTimeStart: byDates[0].id });
    const byIds = expectOcto(
      await octo.post('/octo/availability', {
        productId: '106',
        optionId: 'DEFAULT',
        availabilityIds: [byDates[2].id, byDates[0].id],
      }),
      200,
      each(zAvailability),
    );
    expect(byIds.map((a: { id: string }) => a.id)).toEqual([byDates[2].id, byDates[0].id]);
  });

  it('invalid product, option, availability id, unit; bad requests', async () => {
    const day = venueDay(sys.config, 1);
    const base = { productId: '106', optionId: 'DEFAULT', localDateStart: day, localDateEnd: day };
    expectOctoError(
      await octo.post('/octo/availability', { ...base, productId: 'nope' }),
      400,
      'INVALID_PRODUCT_ID',
      zErrorInvalidProductId,
    );
    const option = expectOctoError(
      await octo.post('/octo/availability', { ...base, optionId: 'VIP' }),
      400,
      'INVALID_OPTION_ID',
      zErrorInvalidOptionId,
    );
    expect(option.optionId).toBe('VIP');
    expectOctoError(
      await octo.post('/octo/availability', {
        productId: '106',
        optionId: 'DEFAULT',
        availabilityIds: ['2026-02-30T00:00:00+08:00'],
      }),
      400,
      'INVALID_AVAILABILITY_ID',
      zErrorInvalidAvailabilityId,
    );
    expectOctoError(
      await octo.post('/octo/availability', { ...base, units: [{ id: 'dragon', quantity: 1 }] }),
      400,
      'INVALID_UNIT_ID',
      zErrorInvalidUnitId,
    );
    // Neither dates nor ids; both; an end before the start; a date out of range; more than a year.
    expectOctoError(
      await octo.post('/octo/availability', { productId: '106', optionId: 'DEFAULT' }),
      400,
      'BAD_REQUEST',
    );
    expectOctoError(
      await octo.post('/octo/availability', { ...base, availabilityIds: ['x'] }),
      400,
      'BAD_REQUEST',
    );
    expectOctoError(
      await octo.post('/octo/availability', { ...base, localDateEnd: venueDay(sys.config, -3) }),
      400,
      'BAD_REQUEST',
    );
    expectOctoError(
      await octo.post('/octo/availability', { ...base, localDateEnd: '9999-12-31' }),
      400,
      'BAD_REQUEST',
    );
    expectOctoError(
      await octo.post('/octo/availability/calendar', { ...base, localDateEnd: venueDay(sys.config, 400) }),
      400,
      'BAD_REQUEST',
    );
    expectOctoError(await octo.post('/octo/availability', { productId: 106 }), 400, 'BAD_REQUEST');
  });

  it('LIMITED at 10% or less of the allocation left, consistent with the pool', async () => {
    const day = venueDay(sys.config, 4);
    const body = { productId: '107', optionId: 'DEFAULT', localDateStart: day, localDateEnd: day };
    const [open] = expectOcto(await octo.post('/octo/availability', body), 200, each(zAvailability));
    expect(open).toMatchObject({ status: 'AVAILABLE', vacancies: 20, capacity: 20 });
    expectOcto(
      await octo.post('/octo/bookings', {
        productId: '107',
        optionId: 'DEFAULT',
        availabilityId: open.id,
        unitItems: Array.from({ length: 17 }, () => ({ unitId: 'adult' })),
      }),
      200,
      zBooking,
    );
    const [three] = expectOcto(await octo.post('/octo/availability', body), 200, each(zAvailability));
    expect(three).toMatchObject({ status: 'AVAILABLE', vacancies: 3 });
    expectOcto(
      await octo.post('/octo/bookings', {
        productId: '107',
        optionId: 'DEFAULT',
        availabilityId: open.id,
        unitItems: [{ unitId: 'family' }],
      }),
      200,
      zBooking,
    );
    const [two] = expectOcto(await octo.post('/octo/availability', body), 200, each(zAvailability));
    expect(two).toMatchObject({ status: 'LIMITED', available: true, vacancies: 2 });
    // Asking for more units than are left reads as sold out for that request.
    const [tooMany] = expectOcto(
      await octo.post('/octo/availability', { ...body, units: [{ id: 'adult', quantity: 3 }] }),
      200,
      each(zAvailability),
    );
    expect(tooMany).toMatchObject({ status: 'SOLD_OUT', available: false });
  });

  it('malformed JSON is an OCTO BAD_REQUEST, not problem+json', async () => {
    const res = await sys.gateway.inject({
      method: 'POST',
      url: '/octo/availability',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: '{"productId": "106",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({ error: 'BAD_REQUEST' });
  });
});

describe('bookings', () => {
  let availabilityId: string;
  beforeAll(async () => {
    availabilityId = await availabilityIdFor(venueDay(sys.config, 2));
  });
  const create = (body: Record<string, unknown> = {}, headers?: Record<string, string>) =>
    octo.post(
      '/octo/bookings',
      {
        productId: '106',
        optionId: 'DEFAULT',
        availabilityId,
        unitItems: [{ unitId: 'adult' }, { unitId: 'adult' }, { unitId: 'child' }],
        ...body,
      },
      headers,
    );

  it('reservation: ON_HOLD with its expiry, nothing confirmed, redeemed or cancelled; a reservation in REST too', async () => {
    const uuid = randomUUID();
    const before = await pool106();
    const booking = expectOcto(
      await create(
        { uuid, expirationMinutes: 30, resellerReference: 'RES-1' },
        { 'octo-capabilities': 'octo/pricing' },
      ),
      200,
      zBooking,
    );
    expect(booking).toMatchObject({
      uuid,
      status: 'ON_HOLD',
      utcConfirmedAt: null,
      utcRedeemedAt: null,
      cancellation: null,
      cancellable: true,
      productId: '106',
      optionId: 'DEFAULT',
      availabilityId,
      resellerReference: 'RES-1',
      supplierReference: booking.id,
    });
    expect(booking.utcExpiresAt).not.toBeNull();
    const holdMs = Date.parse(booking.utcExpiresAt) - Date.parse(booking.utcCreatedAt);
    expect(holdMs).toBe(30 * 60_000);
    expect(booking.unitItems).toHaveLength(3);
    for (const item of booking.unitItems) {
      expect(item.ticket).toEqual({ redemptionMethod: 'DIGITAL', utcRedeemedAt: null, deliveryOptions: [] });
      expect(item.status).toBe('ON_HOLD');
    }
    // Weekday or weekend: the pricing is the reservation's own total.
    const rest = await restReservation(booking.id);
    expect(rest).toMatchObject({
      status: 'ON_HOLD',
      quantity: 3,
      reseller_reference: 'RES-1',
      expires_at: booking.utcExpiresAt,
    });
    expect(booking.pricing.retail).toBe(rest.total.amount);
    expect((await pool106()).held).toBe(before.held + 3);
  });

  it('is idempotent by uuid; a uuid is generated when absent', async () => {
    const uuid = randomUUID();
    const first = expectOcto(await create({ uuid }), 200, zBooking);
    const again = expectOcto(await create({ uuid }), 200, zBooking);
    expect(again.id).toBe(first.id);
    const concurrent = await Promise.all([1, 2, 3, 4].map(() => create({ uuid: randomUUID() })));
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const generated = expectOcto(await create({}), 200, zBooking);
    expect(generated.uuid).toMatch(/^[0-9a-f-]{36}$/);
    // The same uuid for another booking is refused.
    const reused = expectOctoError(
      await create({ uuid, unitItems: [{ unitId: 'student' }] }),
      400,
      'INVALID_BOOKING_UUID',
      zErrorInvalidBookingUuid,
    );
    expect(reused.uuid).toBe(uuid);
  });

  it('sold out: UNPROCESSABLE_ENTITY, nothing held, availability SOLD_OUT', async () => {
    const id108 = (
      await octo.post('/octo/availability', {
        productId: '108',
        optionId: 'DEFAULT',
        localDateStart: venueDay(sys.config, 2),
        localDateEnd: venueDay(sys.config, 2),
      })
    ).body[0].id;
    const one = expectOcto(
      await octo.post('/octo/bookings', {
        productId: '108',
        optionId: 'DEFAULT',
        availabilityId: id108,
        unitItems: [{ unitId: 'vip' }],
      }),
      200,
      zBooking,
    );
    expect(one.status).toBe('ON_HOLD');
    expectOctoError(
      await octo.post('/octo/bookings', {
        productId: '108',
        optionId: 'DEFAULT',
        availabilityId: id108,
        unitItems: [{ unitId: 'vip' }],
      }),
      400,
      'UNPROCESSABLE_ENTITY',
    );
    const availability = expectOcto(
      await octo.post('/octo/availability', {
        productId: '108',
        optionId: 'DEFAULT',
        availabilityIds: [id108],
      }),
      200,
      each(zAvailability),
    );
    expect(availability[0]).toMatchObject({ status: 'SOLD_OUT', available: false, vacancies: 0 });
  });

  it('invalid product, option, availability, unit; missing and empty unit items', async () => {
    expectOctoError(await create({ productId: '1' }), 400, 'INVALID_PRODUCT_ID', zErrorInvalidProductId);
    expectOctoError(await create({ optionId: 'OTHER' }), 400, 'INVALID_OPTION_ID', zErrorInvalidOptionId);
    const bad = expectOctoError(
      await create({ availabilityId: '2020-01-01T00:00:00+08:00' }),
      400,
      'INVALID_AVAILABILITY_ID',
      zErrorInvalidAvailabilityId,
    );
    expect(bad.availabilityId).toBe('2020-01-01T00:00:00+08:00');
    expectOctoError(await create({ availabilityId: 'tomorrow' }), 400, 'INVALID_AVAILABILITY_ID');
    expectOctoError(await create({ availabilityId: undefined }), 400, 'INVALID_AVAILABILITY_ID');
    const unit = expectOctoError(
      await create({ unitItems: [{ unitId: 'vip' }] }),
      400,
      'INVALID_UNIT_ID',
      zErrorInvalidUnitId,
    );
    expect(unit.unitId).toBe('vip');
    expectOctoError(await create({ unitItems: undefined }), 400, 'BAD_REQUEST');
    expectOctoError(await create({ unitItems: [] }), 400, 'BAD_REQUEST');
    expectOctoError(await create({ expirationMinutes: 0 }), 400, 'BAD_REQUEST');
    expectOctoError(await create({ expirationMinutes: 1441 }), 400, 'BAD_REQUEST');
  });

  it('extend adds expirationMinutes to the expiry, never beyond 48 h from creation', async () => {
    const booking = expectOcto(await create({ expirationMinutes: 10 }), 200, zBooking);
    const extended = expectOcto(
      await octo.post(`/octo/bookings/${booking.uuid}/extend`, { expirationMinutes: 20 }),
      200,
      zBooking,
    );
    expect(Date.parse(extended.utcExpiresAt) - Date.parse(booking.utcExpiresAt)).toBe(20 * 60_000);
    expect((await restReservation(booking.id)).expires_at).toBe(extended.utcExpiresAt);
    let last = extended;
    for (let i = 0; i < 3; i++) {
      last = expectOcto(
        await octo.post(`/octo/bookings/${booking.uuid}/extend`, { expirationMinutes: 1440 }),
        200,
        zBooking,
      );
    }
    expect(Date.parse(last.utcExpiresAt) - Date.parse(booking.utcCreatedAt)).toBe(48 * 3600_000);
    expectOctoError(
      await octo.post(`/octo/bookings/${randomUUID()}/extend`, {}),
      400,
      'INVALID_BOOKING_UUID',
      zErrorInvalidBookingUuid,
    );
  });

  it('confirm: an on-account sale; tickets as QR codes; contact echoed whole; counted in billing', async () => {
    const booking = expectOcto(await create({ resellerReference: 'CONF-1' }), 200, zBooking);
    const contact = {
      fullName: 'Ada Lovelace',
      firstName: 'Ada',
      lastName: 'Lovelace',
      emailAddress: 'ada@example.com',
      phoneNumber: '+44 20 0000 0000',
      locales: ['en-GB', 'en'],
      postalCode: 'W1',
      country: 'GB',
      notes: 'window seat',
    };
    const confirmed = expectOcto(
      await octo.post(
        `/octo/bookings/${booking.uuid}/confirm`,
        { contact },
        { 'octo-capabilities': 'octo/pricing' },
      ),
      200,
      zBooking,
    );
    expect(confirmed).toMatchObject({
      status: 'CONFIRMED',
      utcExpiresAt: null,
      utcRedeemedAt: null,
      cancellation: null,
      contact,
    });
    expect(confirmed.utcConfirmedAt).not.toBeNull();
    const codes = confirmed.unitItems.map(
      (u: { ticket: { deliveryOptions: { deliveryFormat: string; deliveryValue: string }[] } }) => {
        expect(u.ticket.deliveryOptions).toHaveLength(1);
        expect(u.ticket.deliveryOptions[0]!.deliveryFormat).toBe('QRCODE');
        return u.ticket.deliveryOptions[0]!.deliveryValue;
      },
    );
    // The same tickets through REST, issued like a paid reservation's.
    const rest = await restReservation(booking.id);
    expect(rest.status).toBe('CONFIRMED');
    expect(new Set(rest.tickets.map((t: { ticket_code: string }) => t.ticket_code))).toEqual(new Set(codes));
    for (const t of rest.tickets)
      expect(t).toMatchObject({ status: 'ACTIVE', channel: 'ota', reservation_id: booking.id });
    // Confirming again answers the same booking and issues nothing more.
    const again = expectOcto(
      await octo.post(`/octo/bookings/${booking.uuid}/confirm`, { contact }),
      200,
      zBooking,
    );
    expect(again.unitItems.map((u: { supplierReference: string }) => u.supplierReference).sort()).toEqual(
      [...codes].sort(),
    );
    const tickets = await octo.get(`/api/ota/tickets?reservation_id=${booking.id}`);
    expect(tickets.body.total).toBe(3);
    const today = venueDay(sys.config, 0);
    const billing = await octo.get(
      `/api/ota/billing/summary?from=${venueDay(sys.config, -1)}&to=${venueDay(sys.config, 1)}`,
    );
    expect(billing.status).toBe(200);
    expect(billing.body.totals.issued).toBeGreaterThanOrEqual(3);
    expect(billing.body.totals.gross.amount).toBeGreaterThanOrEqual(rest.total.amount);
    expect(today).toBeTruthy();
  });

  it('cancel of a held booking: units back, CANCELLED in both APIs', async () => {
    const booking = expectOcto(await create(), 200, zBooking);
    const before = await pool106();
    const cancelled = expectOcto(
      await octo.post(`/octo/bookings/${booking.uuid}/cancel`, { reason: 'changed plans' }),
      200,
      zBooking,
    );
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellable: false });
    expect(cancelled.cancellation).toMatchObject({ refund: 'FULL', reason: 'changed plans' });
    expect((await pool106()).held).toBe(before.held - 3);
    expect((await restReservation(booking.id)).status).toBe('CANCELLED');
    // Again: the same cancelled booking.
    expect(expectOcto(await octo.post(`/octo/bookings/${booking.uuid}/cancel`), 200, zBooking).status).toBe(
      'CANCELLED',
    );
  });

  it('cancel of a confirmed booking: tickets cancelled, units back, REST CANCELLED', async () => {
    const booking = expectOcto(await create(), 200, zBooking);
    expectOcto(
      await octo.post(`/octo/bookings/${booking.uuid}/confirm`, { contact: { fullName: 'B' } }),
      200,
      zBooking,
    );
    const before = await pool106();
    const cancelled = expectOcto(await octo.post(`/octo/bookings/${booking.uuid}/cancel`, {}), 200, zBooking);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.cancellation).not.toBeNull();
    for (const item of cancelled.unitItems) {
      expect(item.status).toBe('CANCELLED');
      expect(item.ticket.deliveryOptions).toEqual([]);
    }
    const rest = await restReservation(booking.id);
    expect(rest.status).toBe('CANCELLED');
    const tickets = await octo.get(`/api/ota/tickets?reservation_id=${booking.id}`);
    expect(tickets.body.data.map((t: { status: string }) => t.status)).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
    expect((await pool106()).sold).toBe(before.sold - 3);
  });

  it('get, and list by reseller and supplier reference (a filter is required)', async () => {
    const reference = `LIST-${randomUUID()}`;
    const a = expectOcto(await create({ resellerReference: reference }), 200, zBooking);
    const b = expectOcto(await create({ resellerReference: reference }), 200, zBooking);
    expect(expectOcto(await octo.get(`/octo/bookings/${a.uuid}`), 200, zBooking)).toMatchObject({
      id: a.id,
      uuid: a.uuid,
    });
    const byReseller = expectOcto(
      await octo.get(`/octo/bookings?resellerReference=${reference}`),
      200,
      each(zBooking),
    );
    expect(byReseller.map((x: { id: string }) => x.id).sort()).toEqual([a.id, b.id].sort());
    const bySupplier = expectOcto(
      await octo.get(`/octo/bookings?supplierReference=${b.id}`),
      200,
      each(zBooking),
    );
    expect(bySupplier.map((x: { uuid: string }) => x.uuid)).toEqual([b.uuid]);
    const byDate = expectOcto(
      await octo.get(
        `/octo/bookings?localDateStart=${venueDay(sys.config, 2)}&localDateEnd=${venueDay(sys.config, 2)}&productId=106`,
      ),
      200,
      each(zBooking),
    );
    expect(byDate.length).toBeGreaterThanOrEqual(2);
    expectOctoError(await octo.get('/octo/bookings'), 400, 'BAD_REQUEST');
    expectOctoError(
      await octo.get(`/octo/bookings/${randomUUID()}`),
      400,
      'INVALID_BOOKING_UUID',
      zErrorInvalidBookingUuid,
    );
    expectOctoError(await octo.get('/octo/bookings/not-a-uuid'), 400, 'INVALID_BOOKING_UUID');
  });

  it("another partner never sees this partner's bookings", async () => {
    const mine = expectOcto(await create(), 200, zBooking);
    const other = await createPartner(sys, { 106: 5 });
    const theirs = client(sys, other.api_key);
    expectOctoError(await theirs.get(`/octo/bookings/${mine.uuid}`), 400, 'INVALID_BOOKING_UUID');
    expectOctoError(await theirs.post(`/octo/bookings/${mine.uuid}/cancel`), 400, 'INVALID_BOOKING_UUID');
    expect((await theirs.get(`/octo/bookings?supplierReference=${mine.id}`)).body).toEqual([]);
    expect((await restReservation(mine.id)).status).toBe('ON_HOLD');
    expect(partnerId).not.toBe(other.partner_id);
  });
});

describe('the edge on /octo', () => {
  it('missing or unknown keys: OCTO UNAUTHORIZED; unknown path: OCTO shape; audited and limited', async () => {
    const none = await sys.gateway.inject({ method: 'GET', url: '/octo/products' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'UNAUTHORIZED' });
    expect(zBaseError.safeParse(none.json()).success).toBe(true);
    const wrong = await sys.gateway.inject({
      method: 'GET',
      url: '/octo/products',
      headers: { authorization: 'Bearer ck_nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('UNAUTHORIZED');
    const missing = await octo.get('/octo/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('BAD_REQUEST');
    // A path segment over the router's length cap is refused before any route: still in OCTO's shape,
    // at the gateway and at the adapter (the fuzz pass found a 10,000-character booking uuid answered
    // in problem+json).
    const long = `/octo/bookings/${'A'.repeat(300)}/extend`;
    const atGateway = await sys.gateway.inject({
      method: 'POST',
      url: long,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(atGateway.statusCode).toBe(404);
    expect(atGateway.headers['content-type']).toMatch(/^application\/json/);
    expect(zBaseError.safeParse(atGateway.json()).success).toBe(true);
    const atAdapter = await sys.octo.inject({ method: 'POST', url: long, payload: '{}' });
    expect(atAdapter.statusCode).toBe(404);
    expect(zBaseError.safeParse(atAdapter.json()).success).toBe(true);
    const ok = await octo.get('/octo/supplier');
    expect(ok.headers['ratelimit-limit']).toBe('10000');
  });

  it('a partner over its limit gets 429 in OCTO shape with Retry-After', async () => {
    const slow = await createPartner(sys, {}, 2);
    const c = client(sys, slow.api_key);
    await c.get('/octo/supplier');
    await c.get('/octo/supplier');
    const limited = await c.get('/octo/supplier');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('BAD_REQUEST');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('an oversized body is refused by the gateway in OCTO shape', async () => {
    const res = await sys.gateway.inject({
      method: 'POST',
      url: '/octo/bookings',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ notes: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('the OpenAPI document lists the OCTO routes under their own tag', async () => {
    const doc = (await sys.gateway.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.tags.map((t: { name: string }) => t.name)).toContain('OCTO');
    expect(doc.paths['/octo/bookings/{uuid}/confirm'].post).toMatchObject({
      operationId: 'octoConfirmBooking',
      tags: ['OCTO'],
    });
    expect(doc.paths['/octo/bookings'].post.responses['400'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/OctoError',
    );
  });

  // Last: it stops the adapter.
  it('the adapter down: 503 in OCTO shape (INTERNAL_SERVER_ERROR), safe to retry', async () => {
    await sys.octo.close();
    const res = await octo.get('/octo/supplier');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'INTERNAL_SERVER_ERROR' });
  });
});
