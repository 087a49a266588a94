// The payment webhook end to end: reservation created through issuance (inventory holds it), payment through
// issuance's, every failure code, duplicates sequential and concurrent, and the crash-repair path.
import { createCommandClient } from '@cruise/shared';
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlePaymentNotification } from '../src/domain/payments.ts';
import { dyingAfterConfirm, naivePaymentNotification } from './controls.ts';
import {
  getReservation,
  newPartner,
  notify,
  partnerHeaders,
  poolOf,
  reserve,
  type System,
  startSystem,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let partner: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  partner = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: 200 }]);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const payment = (r: { reservation_id: string; total: unknown }, id: string, extra: object = {}) => ({
  payment_id: id,
  reservation_id: r.reservation_id,
  status: 'SUCCEEDED',
  amount: r.total,
  paid_at: new Date().toISOString(),
  ...extra,
});

async function ticketCount(reservationId: string): Promise<number> {
  const { rows } = await sys.deps.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM issuance.tickets WHERE reservation_id = $1',
    [reservationId],
  );
  return rows[0]!.n;
}

describe('reservation → payment → tickets', () => {
  it('confirms the reservation and issues one ACTIVE ticket per unit with entitlements and unit prices', async () => {
    const r = await reserve(sys, ctx.config, partner, [
      { customer_type: 'adult', quantity: 2 },
      { customer_type: 'child', quantity: 1 },
    ]);
    expect(r.total).toEqual({ amount: 2 * 31800 + 21800, currency: 'USD' });
    const res = await notify(sys, ctx.config, payment(r, 'pay_full_path'));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      payment_id: 'pay_full_path',
      reservation_id: r.reservation_id,
      reservation_status: 'CONFIRMED',
    });
    expect(body.tickets).toHaveLength(3);
    for (const t of body.tickets) {
      expect(t).toMatchObject({
        status: 'ACTIVE',
        channel: 'ota',
        product_id: 106,
        reservation_id: r.reservation_id,
      });
      expect(t.ticket_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{24}$/);
      expect(t.entitlements.length).toBeGreaterThan(0);
      expect(t.entitlements.every((e: { redeemed_at: unknown }) => e.redeemed_at === null)).toBe(true);
      expect(t.activated_at).not.toBeNull();
    }
    expect(
      body.tickets.map((t: { customer_type: string; price: { amount: number } }) => [
        t.customer_type,
        t.price.amount,
      ]),
    ).toEqual([
      ['adult', 31800],
      ['adult', 31800],
      ['child', 21800],
    ]);
    expect((await getReservation(sys, ctx.config, partner, r.reservation_id)).status).toBe('CONFIRMED');

    // The partner sees them in its list, and each by code.
    const list = await sys.issuance.inject({
      url: `/api/ota/tickets?reservation_id=${r.reservation_id}`,
      headers: partnerHeaders(ctx.config, partner),
    });
    expect(list.json().total).toBe(3);
    const one = await sys.issuance.inject({
      url: `/api/ota/tickets/${body.tickets[0].ticket_code}`,
      headers: partnerHeaders(ctx.config, partner),
    });
    expect(one.json()).toEqual(body.tickets[0]);

    // The same notification again: the same body, no second set of tickets.
    const again = await notify(sys, ctx.config, payment(r, 'pay_full_path'));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    expect(await ticketCount(r.reservation_id)).toBe(3);

    // A second, different payment for the same reservation: kept for refund, no new tickets.
    const double = await notify(sys, ctx.config, payment(r, 'pay_full_path_double'));
    expect(double.statusCode).toBe(409);
    expect(double.json().code).toBe('RESERVATION_NOT_ON_HOLD');
    const { rows } = await sys.deps.pool.query(
      "SELECT outcome FROM issuance.payments WHERE payment_id = 'pay_full_path_double'",
    );
    expect(rows[0]?.outcome).toBe('REFUND_REQUIRED');
    expect(await ticketCount(r.reservation_id)).toBe(3);
  });

  it('six concurrent duplicates issue exactly one set of tickets and all get the same body', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 3 }]);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => notify(sys, ctx.config, payment(r, 'pay_concurrent'))),
    );
    for (const res of responses) expect(res.statusCode, res.body).toBe(200);
    const bodies = responses.map((res) => res.body);
    expect(new Set(bodies).size).toBe(1);
    expect(await ticketCount(r.reservation_id)).toBe(3);
    const sold = await poolOf(sys, partner, 106, 'ota');
    expect(sold.sold).toBeGreaterThanOrEqual(3);
  });

  it('control: without the payment lock and unit keys the same six duplicates issue extra tickets', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 3 }]);
    const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
    const n = {
      payment_id: 'pay_naive',
      reservation_id: r.reservation_id,
      status: 'SUCCEEDED' as const,
      amount: r.total,
    };
    // Every duplicate reads "no payment yet" and gets inventory's confirmation before any writes: the
    // window a real race opens, held open by a barrier instead of left to timing.
    const arrive = barrier(6);
    await Promise.all(
      Array.from({ length: 6 }, () => naivePaymentNotification(sys.deps.pool, inventory, n, arrive)),
    );
    expect(await ticketCount(r.reservation_id)).toBeGreaterThan(3);
  });

  it('a crash between confirmation and issuance is repaired by the provider retry, without doubling', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
    const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
    const n = {
      payment_id: 'pay_crash',
      reservation_id: r.reservation_id,
      status: 'SUCCEEDED' as const,
      amount: r.total,
    };
    await expect(handlePaymentNotification(sys.deps.pool, dyingAfterConfirm(inventory), n)).rejects.toThrow(
      'process died',
    );
    // Inventory already confirmed; issuance wrote nothing.
    expect((await getReservation(sys, ctx.config, partner, r.reservation_id)).status).toBe('CONFIRMED');
    expect(await ticketCount(r.reservation_id)).toBe(0);
    const soldBefore = (await poolOf(sys, partner, 106, 'ota')).sold;

    const retry = await notify(sys, ctx.config, payment(r, 'pay_crash'));
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json().tickets).toHaveLength(2);
    expect(await ticketCount(r.reservation_id)).toBe(2);
    expect((await poolOf(sys, partner, 106, 'ota')).sold).toBe(soldBefore);
  });
});

describe('a payment_id reused for another payment', () => {
  const paymentRow = async (id: string) =>
    (
      await sys.deps.pool.query(
        `SELECT p.reservation_id, p.amount, p.currency, p.outcome, r.status_code, r.body
           FROM issuance.payments p
           LEFT JOIN issuance.idempotency_keys r ON r.scope = 'payment' AND r.key = p.payment_id
          WHERE p.payment_id = $1`,
        [id],
      )
    ).rows;

  it('naming another reservation or another amount → 422 IDEMPOTENCY_KEY_REUSED, nothing changed', async () => {
    const first = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const second = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const ok = await notify(sys, ctx.config, payment(first, 'pay_reused'));
    expect(ok.statusCode, ok.body).toBe(200);
    const before = await paymentRow('pay_reused');

    // Today this answered 200 with the first reservation's body while the second stayed ON_HOLD.
    const other = await notify(sys, ctx.config, payment(second, 'pay_reused'));
    expect(other.statusCode, other.body).toBe(422);
    expect(other.headers['content-type']).toContain('application/problem+json');
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    const otherAmount = await notify(
      sys,
      ctx.config,
      payment(first, 'pay_reused', { amount: { amount: first.total.amount + 100, currency: 'USD' } }),
    );
    expect(otherAmount.statusCode).toBe(422);
    expect(otherAmount.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    const otherCurrency = await notify(
      sys,
      ctx.config,
      payment(first, 'pay_reused', { amount: { amount: first.total.amount, currency: 'EUR' } }),
    );
    expect(otherCurrency.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    const failedForOther = await notify(sys, ctx.config, payment(second, 'pay_reused', { status: 'FAILED' }));
    expect(failedForOther.json().code).toBe('IDEMPOTENCY_KEY_REUSED');

    expect(await paymentRow('pay_reused')).toEqual(before);
    expect((await getReservation(sys, ctx.config, partner, second.reservation_id)).status).toBe('ON_HOLD');
    expect(await ticketCount(second.reservation_id)).toBe(0);
    // The real repeat still gets the original answer, and the second reservation pays under its own id.
    expect((await notify(sys, ctx.config, payment(first, 'pay_reused'))).json()).toEqual(ok.json());
    expect((await notify(sys, ctx.config, payment(second, 'pay_second_own'))).statusCode).toBe(200);
  });

  it('a FAILED attempt then a SUCCEEDED one for another reservation under its id is refused', async () => {
    const first = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const second = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    expect(
      (await notify(sys, ctx.config, payment(first, 'pay_failed_reused', { status: 'FAILED' }))).statusCode,
    ).toBe(200);
    const res = await notify(sys, ctx.config, payment(second, 'pay_failed_reused'));
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await getReservation(sys, ctx.config, partner, second.reservation_id)).status).toBe('ON_HOLD');
    expect(await ticketCount(second.reservation_id)).toBe(0);
  });

  it('concurrently: one payment_id for two reservations confirms exactly one, the rest are 422', async () => {
    const a = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
    const b = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => notify(sys, ctx.config, payment(i % 2 ? b : a, 'pay_race'))),
    );
    const rows = await paymentRow('pay_race');
    expect(rows).toHaveLength(1);
    const winner = rows[0]!.reservation_id as string;
    const loser = winner === a.reservation_id ? b : a;
    for (const [i, res] of responses.entries()) {
      const named = i % 2 ? b : a;
      if (named.reservation_id === winner) {
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().reservation_id).toBe(winner);
      } else {
        expect(res.statusCode, res.body).toBe(422);
        expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
      }
    }
    expect(await ticketCount(winner)).toBe(2);
    expect(await ticketCount(loser.reservation_id)).toBe(0);
    expect((await getReservation(sys, ctx.config, partner, loser.reservation_id)).status).toBe('ON_HOLD');
  });
});

describe('webhook refusals', () => {
  it('401 INVALID_SIGNATURE for a missing, wrong, stale or body-mismatched signature', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const body = payment(r, 'pay_sig');
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      await notify(sys, ctx.config, body, { signature: null }),
      await notify(sys, ctx.config, body, { signature: `t=${now},v1=${'ab'.repeat(32)}` }),
      await notify(sys, ctx.config, body, { t: now - 301 }),
      await notify(sys, ctx.config, body, { signature: 'garbage' }),
    ];
    // Signed over one body, sent with another (same JSON, different bytes).
    const { signPayment } = await import('@cruise/shared');
    const sig = signPayment(ctx.config.PAYMENT_WEBHOOK_SECRET, JSON.stringify(body), now);
    cases.push(await notify(sys, ctx.config, body, { signature: sig, raw: JSON.stringify(body, null, 2) }));
    for (const res of cases) {
      expect(res.statusCode, res.body).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('INVALID_SIGNATURE');
    }
    // An unsigned malformed body learns nothing but 401; a signed one gets 400.
    expect((await notify(sys, ctx.config, {}, { raw: '{not json', signature: null })).statusCode).toBe(401);
    expect((await notify(sys, ctx.config, {}, { raw: '{not json' })).json().code).toBe('VALIDATION_FAILED');
    expect((await notify(sys, ctx.config, { payment_id: 'x' })).json().code).toBe('VALIDATION_FAILED');
    expect((await getReservation(sys, ctx.config, partner, r.reservation_id)).status).toBe('ON_HOLD');
  });

  it('422 AMOUNT_MISMATCH for a wrong amount or currency; the reservation stays ON_HOLD', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const short = await notify(
      sys,
      ctx.config,
      payment(r, 'pay_short', { amount: { amount: r.total.amount - 1, currency: 'USD' } }),
    );
    expect(short.statusCode).toBe(422);
    expect(short.json().code).toBe('AMOUNT_MISMATCH');
    const eur = await notify(
      sys,
      ctx.config,
      payment(r, 'pay_eur', { amount: { amount: r.total.amount, currency: 'EUR' } }),
    );
    expect(eur.json().code).toBe('AMOUNT_MISMATCH');
    expect((await getReservation(sys, ctx.config, partner, r.reservation_id)).status).toBe('ON_HOLD');
    expect(await ticketCount(r.reservation_id)).toBe(0);
    // Nothing was recorded: the right amount afterwards still works.
    const ok = await notify(sys, ctx.config, payment(r, 'pay_right'));
    expect(ok.statusCode).toBe(200);
  });

  it('FAILED → 200 ON_HOLD and recorded; FAILED for an unknown reservation → 404', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const failed = await notify(sys, ctx.config, payment(r, 'pay_failed', { status: 'FAILED' }));
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toEqual({
      payment_id: 'pay_failed',
      reservation_id: r.reservation_id,
      reservation_status: 'ON_HOLD',
      tickets: [],
    });
    const { rows } = await sys.deps.pool.query(
      "SELECT outcome FROM issuance.payments WHERE payment_id = 'pay_failed'",
    );
    expect(rows[0]?.outcome).toBe('FAILED');
    const after = await getReservation(sys, ctx.config, partner, r.reservation_id);
    expect(after.status).toBe('ON_HOLD');

    const unknown = await notify(sys, ctx.config, {
      ...payment(r, 'pay_failed_unknown', { status: 'FAILED' }),
      reservation_id: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
  });

  it('SUCCEEDED for an unknown reservation → 404', async () => {
    const res = await notify(sys, ctx.config, {
      payment_id: 'pay_unknown',
      reservation_id: '00000000-0000-4000-8000-000000000001',
      status: 'SUCCEEDED',
      amount: { amount: 100, currency: 'USD' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('a cancelled reservation → 409 RESERVATION_NOT_ON_HOLD, the payment kept for refund, same answer on repeat', async () => {
    const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 1 }]);
    const cancel = await sys.inventory.inject({
      method: 'POST',
      url: `/api/ota/reservations/${r.reservation_id}/cancel`,
      headers: partnerHeaders(ctx.config, partner),
    });
    expect(cancel.statusCode).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await notify(sys, ctx.config, payment(r, 'pay_cancelled'));
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('RESERVATION_NOT_ON_HOLD');
    }
    const { rows } = await sys.deps.pool.query(
      "SELECT outcome FROM issuance.payments WHERE payment_id = 'pay_cancelled'",
    );
    expect(rows[0]?.outcome).toBe('REFUND_REQUIRED');
    expect(await ticketCount(r.reservation_id)).toBe(0);
  });
});
