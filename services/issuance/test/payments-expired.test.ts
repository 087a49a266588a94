// Late payments on an expired hold: re-held and confirmed when the pool still has room, otherwise
// 409 RESERVATION_EXPIRED with the payment kept for refund. Holds here last 2 seconds.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getReservation, newPartner, notify, reserve, type System, startSystem } from './harness.ts';

let ctx: TestContext;
let sys: System;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false', RESERVATION_HOLD_SECONDS: '2' });
  sys = await startSystem(ctx.config);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pay = (r: { reservation_id: string; total: unknown }, id: string) => ({
  payment_id: id,
  reservation_id: r.reservation_id,
  status: 'SUCCEEDED',
  amount: r.total,
});

it('an expired hold with room left is re-held and confirmed with its tickets', async () => {
  const partner = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: 5 }]);
  const r = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
  await sleep(2_300);
  const res = await notify(sys, ctx.config, pay(r, 'pay_late_ok'));
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().reservation_status).toBe('CONFIRMED');
  expect(res.json().tickets).toHaveLength(2);
  expect((await getReservation(sys, ctx.config, partner, r.reservation_id)).status).toBe('CONFIRMED');
});

it('an expired hold whose units were taken → 409 RESERVATION_EXPIRED, recorded REFUND_REQUIRED, same on repeat', async () => {
  const partner = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: 2 }]);
  const late = await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
  await sleep(2_300);
  // The expired units are free at once: another reservation takes them all.
  await reserve(sys, ctx.config, partner, [{ customer_type: 'adult', quantity: 2 }]);
  for (let i = 0; i < 2; i++) {
    const res = await notify(sys, ctx.config, pay(late, 'pay_late_no_room'));
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().code).toBe('RESERVATION_EXPIRED');
  }
  const { rows } = await sys.deps.pool.query(
    "SELECT outcome, amount FROM issuance.payments WHERE payment_id = 'pay_late_no_room'",
  );
  expect(rows[0]).toEqual({ outcome: 'REFUND_REQUIRED', amount: late.total.amount });
  const { rows: t } = await sys.deps.pool.query('SELECT 1 FROM issuance.tickets WHERE reservation_id = $1', [
    late.reservation_id,
  ]);
  expect(t).toHaveLength(0);
});
