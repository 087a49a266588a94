// The reservation routes issuance serves over inventory's commands (issuance → inventory only; inventory
// never asks issuance): a named reseller must be the partner's own and ACTIVE before anything is held,
// the Idempotency-Key replays through, and a confirmed reservation read alone shows its tickets.
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newPartner,
  newReseller,
  nextDate,
  notify,
  partnerHeaders,
  poolOf,
  type System,
  startSystem,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let partner: string;
let stranger: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  partner = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: 20 }]);
  stranger = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: 20 }]);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const adults = (quantity: number) => [{ customer_type: 'adult', quantity }];

function post(partnerId: string, payload: unknown, headers: Record<string, string> = {}) {
  return sys.issuance.inject({
    method: 'POST',
    url: '/api/ota/reservations',
    headers: { ...partnerHeaders(ctx.config, partnerId), 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

function read(partnerId: string, id: string) {
  return sys.issuance.inject({
    method: 'GET',
    url: `/api/ota/reservations/${id}`,
    headers: partnerHeaders(ctx.config, partnerId),
  });
}

function resellerOf(partnerId: string): Promise<string> {
  return newReseller(sys, ctx.config, partnerId, {
    name: `Agency ${randomUUID().slice(0, 8)}`,
    contact_email: 'ops@example.com',
  });
}

describe('the reseller named on a reservation', () => {
  it("is the partner's own: held with it; another partner's or an unknown one → 404, nothing held", async () => {
    const own = await resellerOf(partner);
    const theirs = await resellerOf(stranger);
    const visit_date = nextDate(ctx.config, 'weekday');
    const before = await poolOf(sys, partner, 106, 'ota');

    const ok = await post(partner, { product_id: 106, visit_date, reseller_id: own, items: adults(1) });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ status: 'ON_HOLD', reseller_id: own, tickets: [] });

    for (const reseller_id of [theirs, randomUUID()]) {
      const refused = await post(partner, { product_id: 106, visit_date, reseller_id, items: adults(1) });
      expect(refused.statusCode).toBe(404);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().code).toBe('NOT_FOUND');
    }
    expect((await poolOf(sys, partner, 106, 'ota')).held).toBe(before.held + 1);
  });

  it('that is INACTIVE → 400 VALIDATION_FAILED, nothing held', async () => {
    const reseller = await resellerOf(partner);
    const retired = await sys.issuance.inject({
      method: 'PATCH',
      url: `/api/ota/resellers/${reseller}`,
      headers: partnerHeaders(ctx.config, partner),
      payload: { status: 'INACTIVE' },
    });
    expect(retired.statusCode, retired.body).toBe(200);
    const before = await poolOf(sys, partner, 106, 'ota');
    const refused = await post(partner, {
      product_id: 106,
      visit_date: nextDate(ctx.config, 'weekday'),
      reseller_id: reseller,
      items: adults(1),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().code).toBe('VALIDATION_FAILED');
    expect(await poolOf(sys, partner, 106, 'ota')).toEqual(before);
  });
});

describe('POST /api/ota/reservations through issuance', () => {
  it('replays an Idempotency-Key and refuses it with another body', async () => {
    const key = { 'idempotency-key': `key-${randomUUID()}` };
    const body = { product_id: 106, visit_date: nextDate(ctx.config, 'weekend'), items: adults(2) };
    const first = await post(partner, body, key);
    const second = await post(partner, body, key);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.json()).toEqual(first.json());
    const other = await post(partner, { ...body, items: adults(3) }, key);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers malformed bodies and past dates with 400 problems', async () => {
    for (const payload of [
      'not json at all',
      [1, 2, 3],
      { product_id: 106, visit_date: nextDate(ctx.config, 'weekday'), reseller_id: 'nope', items: adults(1) },
      { product_id: 106, visit_date: '2020-01-01', items: adults(1) },
    ]) {
      const res = await post(partner, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('GET /api/ota/reservations/{id} through issuance', () => {
  it('shows no tickets on hold, its tickets once paid, and hides it from another partner', async () => {
    const created = await post(partner, {
      product_id: 106,
      visit_date: nextDate(ctx.config, 'weekday'),
      items: adults(2),
    });
    expect(created.statusCode).toBe(201);
    const reservation = created.json();
    const onHold = await read(partner, reservation.reservation_id);
    expect(onHold.statusCode).toBe(200);
    expect(onHold.json()).toEqual(reservation);

    const paid = await notify(sys, ctx.config, {
      payment_id: `pay_${randomUUID()}`,
      reservation_id: reservation.reservation_id,
      status: 'SUCCEEDED',
      amount: reservation.total,
      paid_at: new Date().toISOString(),
    });
    expect(paid.statusCode, paid.body).toBe(200);
    const confirmed = await read(partner, reservation.reservation_id);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ status: 'CONFIRMED', quantity: 2 });
    const byCode = (tickets: { ticket_code: string }[]) =>
      [...tickets].sort((x, y) => x.ticket_code.localeCompare(y.ticket_code));
    expect(byCode(confirmed.json().tickets)).toEqual(byCode(paid.json().tickets));
    expect(confirmed.json().tickets).toHaveLength(2);

    for (const res of [await read(stranger, reservation.reservation_id), await read(partner, randomUUID())]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    const malformed = await read(partner, 'not-a-uuid');
    expect(malformed.statusCode).toBe(400);
  });
});
