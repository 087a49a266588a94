// Fault: NATS stopped for ten seconds while payments arrive and tickets are cancelled. Private
// PostgreSQL/Redis/NATS (infra.ts), all four services as processes; afterwards the system's invariants
// must hold.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FaultWorld, reserveOk, startFaultWorld } from './fault-system.ts';
import { describeViolations, waitForInvariants } from './invariants.ts';
import { call, expectStatus, pay } from './system.ts';

let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld();
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
}, 60_000);

async function expectInvariants() {
  const results = await waitForInvariants(world.db, { timeoutMs: 30_000 });
  expect(describeViolations(results)).toBe('');
}

describe('NATS stopped for 10 s during payments', () => {
  it('answers 503 while it is down, loses and doubles nothing, and drains the outbox when it returns', async () => {
    const partner = await world.newPartner({ ota: { 107: 200 } });
    // Paid before the outage: their tickets are cancelled during it (events and releases queue up).
    const paidBefore = [];
    for (let i = 0; i < 3; i++) {
      const r = await reserveOk(world.system, partner, 107, 2);
      const res = await pay(world.system, r, `pay-before-${i}-${randomBytes(3).toString('hex')}`);
      paidBefore.push(expectStatus(res, 200, 'payment before the outage'));
    }
    const toCancel: string[] = paidBefore.map((p) => p.tickets[0].ticket_code);
    const pending = [];
    for (let i = 0; i < 10; i++) pending.push(await reserveOk(world.system, partner, 107, 1 + (i % 3)));
    const payments = pending.map((r, i) => ({ r, id: `pay-outage-${i}-${randomBytes(3).toString('hex')}` }));

    await world.infra.nats.stop();
    const outageStarted = Date.now();
    const duringStatuses: number[] = [];
    const nonProblem: string[] = [];
    for (const p of payments) {
      const res = await pay(world.system, p.r, p.id, { timeoutMs: 15_000 });
      duringStatuses.push(res.status);
      if (res.status >= 400 && !res.headers.get('content-type')?.includes('application/problem+json')) {
        nonProblem.push(res.text.slice(0, 200));
      }
    }
    const cancelStatuses: number[] = [];
    for (const code of toCancel) {
      const res = await call('POST', `${world.system.gateway}/api/ota/tickets/${code}/cancel`, {
        token: partner.api_key,
        timeoutMs: 15_000,
      });
      cancelStatuses.push(res.status);
    }
    // Keep NATS down for the full ten seconds.
    const left = 10_000 - (Date.now() - outageStarted);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    expect(duringStatuses.every((s) => s === 503)).toBe(true);
    expect(nonProblem).toEqual([]);
    await world.infra.nats.start();

    // The provider retries each payment until it is accepted: same payment ids.
    const results = [];
    for (const p of payments) {
      const res = await eventually(
        `payment ${p.id} accepted after NATS returned`,
        async () => {
          const r = await pay(world.system, p.r, p.id, { timeoutMs: 15_000 });
          if (r.status === 503) return undefined;
          return r;
        },
        60_000,
      );
      expect(res.status).toBe(200);
      expect(res.body.reservation_status).toBe('CONFIRMED');
      expect(res.body.tickets).toHaveLength(p.r.quantity);
      results.push(res.body);
    }
    // A further retry of every payment returns the same tickets, never a second set.
    for (const [i, p] of payments.entries()) {
      const again = await pay(world.system, p.r, p.id);
      expect(again.status).toBe(200);
      expect(again.body.tickets.map((t: { ticket_code: string }) => t.ticket_code).sort()).toEqual(
        results[i].tickets.map((t: { ticket_code: string }) => t.ticket_code).sort(),
      );
    }
    const { rows } = await world.db.query<{ reservation_id: string; n: number }>(
      `SELECT reservation_id, count(*)::int AS n FROM issuance.tickets WHERE reservation_id = ANY($1::uuid[])
        GROUP BY reservation_id`,
      [payments.map((p) => p.r.reservation_id)],
    );
    const byReservation = new Map(rows.map((r) => [r.reservation_id, r.n]));
    for (const p of payments) expect(byReservation.get(p.r.reservation_id)).toBe(p.r.quantity);

    // Cancellations made during the outage either succeeded (their release queued) or asked for a
    // retry; retry the latter now, then everything must have reached inventory and redemption.
    for (const [i, code] of toCancel.entries()) {
      if (cancelStatuses[i] === 200) continue;
      expect(cancelStatuses[i]).toBe(503);
      const res = await eventually(
        'cancel accepted after NATS returned',
        async () => {
          const r = await call('POST', `${world.system.gateway}/api/ota/tickets/${code}/cancel`, {
            token: partner.api_key,
          });
          return r.status === 503 ? undefined : r;
        },
        30_000,
      );
      expect(res.status).toBe(200);
    }
    // Every service's outbox drains once NATS is back.
    await eventually(
      'outboxes drained',
      async () => {
        const { rows: pendingRows } = await world.db.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM inventory.outbox WHERE published_at IS NULL)
                + (SELECT count(*) FROM issuance.outbox WHERE published_at IS NULL)
                + (SELECT count(*) FROM redemption.outbox WHERE published_at IS NULL) AS n`,
        );
        return Number(pendingRows[0]!.n) === 0 ? true : undefined;
      },
      30_000,
    );
    // The events reached redemption's projection: issued tickets known, cancelled ones cancelled.
    const issued = results.flatMap((r) => r.tickets.map((t: { ticket_code: string }) => t.ticket_code));
    await eventually(
      'redemption projection caught up',
      async () => {
        const { rows: proj } = await world.db.query<{ known: number; cancelled: number }>(
          `SELECT count(*) FILTER (WHERE ticket_code = ANY($1::text[]))::int AS known,
                  count(*) FILTER (WHERE ticket_code = ANY($2::text[]) AND status = 'CANCELLED')::int AS cancelled
             FROM redemption.tickets`,
          [issued, toCancel],
        );
        return proj[0]!.known === issued.length && proj[0]!.cancelled === toCancel.length ? true : undefined;
      },
      30_000,
    );
    await expectInvariants();
  }, 180_000);
});
