// The expiry sweeper: the BullMQ job scheduler fires, the worker expires holds past expires_at,
// releases exactly their units, and the reservationsExpired event reaches JetStream through the outbox.
import { bullPrefix, createRedis, QUEUES, streamName, subject } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, expireHolds } from '../src/index.ts';
import { EXPIRY_SCHEDULER_ID } from '../src/jobs/reservation-expiry.ts';

/** The manifest job `outbox-retention` of the inventory service runs on this queue. */
const OUTBOX_RETENTION_QUEUE = 'inventory-outbox-retention';

import {
  createReservation,
  newPartner,
  nextDate,
  type RunningInventory,
  sleep,
  startInventory,
} from './harness.ts';

let ctx: TestContext;
let a: RunningInventory;
let b: RunningInventory;

beforeAll(async () => {
  ctx = await createTestContext({ RESERVATION_HOLD_SECONDS: '1', EXPIRY_SWEEP_SECONDS: '1' });
  a = await startInventory(ctx.config);
  b = await startInventory(ctx.config);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await ctx?.cleanup();
});

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, attempts = 150): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('reservation expiry sweeper', () => {
  it('one scheduler for all instances, every EXPIRY_SWEEP_SECONDS', async () => {
    const connection = createRedis(ctx.config, 'blocking');
    const queue = new Queue(QUEUES.reservationExpiry, { connection, prefix: bullPrefix(ctx.config) });
    try {
      // Both instances upsert the same entry in the background: one scheduler results.
      const schedulers = await waitFor(async () => {
        const found = await queue.getJobSchedulers();
        return found.length > 0 ? found : undefined;
      }, 'the scheduler');
      expect(schedulers.map((s) => [s.key, s.every])).toEqual([[EXPIRY_SCHEDULER_ID, 1000]]);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('outbox retention: the scheduled job deletes published rows older than a day, nothing else', async () => {
    const pool = a.deps.pool;
    const envelope = JSON.stringify({
      id: 'x',
      type: 'test',
      occurred_at: new Date().toISOString(),
      data: {},
    });
    const { rows } = await pool.query<{ id: number; kind: string }>(
      `INSERT INTO inventory.outbox (subject, envelope, created_at, published_at)
       VALUES ('events.inventory.test.old', $1, now() - interval '3 days', now() - interval '2 days'),
              ('events.inventory.test.recent', $1, now() - interval '1 hour', now() - interval '1 hour'),
              ('events.inventory.test.unpublished', $1, now() - interval '3 days', NULL)
       RETURNING id, subject AS kind`,
      [envelope],
    );
    // The unpublished row may be published by the relay meanwhile: then it is recent, and stays too.
    const connection = createRedis(ctx.config, 'blocking');
    const queue = new Queue(OUTBOX_RETENTION_QUEUE, { connection, prefix: bullPrefix(ctx.config) });
    try {
      // One hourly scheduler for all instances, on the job's own queue.
      const schedulers = await waitFor(async () => {
        const found = await queue.getJobSchedulers();
        return found.length > 0 ? found : undefined;
      }, 'the retention scheduler');
      expect(schedulers.map((s) => [s.key, Number(s.every)])).toEqual([['outbox-retention', 3_600_000]]);
      // What the hourly scheduler enqueues, now: the running worker purges.
      await queue.add('outbox-retention', {}, { removeOnComplete: true });
      const ids = rows.map((r) => r.id);
      const left = await waitFor(async () => {
        const { rows: remaining } = await pool.query<{ subject: string }>(
          'SELECT subject FROM inventory.outbox WHERE id = ANY($1::bigint[]) ORDER BY id',
          [ids],
        );
        return remaining.length === 2 ? remaining : undefined;
      }, 'the purge');
      expect(left.map((r) => r.subject)).toEqual([
        'events.inventory.test.recent',
        'events.inventory.test.unpublished',
      ]);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('expires holds past their expiry, releases exactly their units and publishes the event', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 108, channel: 'ota', allocated: 10 }]);
    const ids: string[] = [];
    for (const quantity of [3, 2]) {
      const res = await createReservation(a.deps.nc, a.config, partnerId, {
        product_id: 108,
        visit_date: nextDate(ctx.config, 'weekday'),
        items: [{ customer_type: 'vip', quantity }],
      });
      expect(res.statusCode).toBe(201);
      ids.push(res.json().reservation_id);
    }
    const pool = () =>
      a.deps.pool
        .query(`SELECT allocated, held, sold FROM inventory.pools WHERE partner_id = $1`, [partnerId])
        .then((r) => r.rows[0]);
    expect(await pool()).toEqual({ allocated: 10, held: 5, sold: 0 });

    await waitFor(async () => {
      const { rows } = await a.deps.pool.query(
        `SELECT count(*)::int AS n FROM inventory.reservations WHERE id = ANY($1::uuid[]) AND status = 'EXPIRED'`,
        [ids],
      );
      return rows[0].n === 2 ? true : undefined;
    }, 'the sweeper');
    expect(await pool()).toEqual({ allocated: 10, held: 0, sold: 0 });
    const ledger = await a.deps.pool.query(
      `SELECT reference, held_delta FROM inventory.inventory_ledger WHERE kind = 'expire' AND reference = ANY($1::text[])
       ORDER BY held_delta`,
      [ids.map((id) => `reservation:${id}`)],
    );
    expect(ledger.rows.map((r) => r.held_delta)).toEqual([-3, -2]);
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);

    // The events leave through the outbox and land in the stream. The two holds may expire in one sweep
    // or in two (they were placed moments apart), so every reservationsExpired event is read.
    const js = a.deps.nc.jetstream();
    const expiredSubject = subject(ctx.config.NATS_PREFIX, 'events.inventory.reservations.expired');
    const event = await waitFor(async () => {
      const consumer = await js.consumers.get(streamName(ctx.config.NATS_PREFIX), {
        filterSubjects: expiredSubject,
      });
      const seen = new Set<string>();
      let last: { type: string } | undefined;
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      for await (const m of batch) {
        const envelope = m.json<{ type: string; data: { reservations: { reservation_id: string }[] } }>();
        for (const r of envelope.data.reservations) seen.add(r.reservation_id);
        last = envelope;
        if (m.info.pending === 0) break;
      }
      return ids.every((id) => seen.has(id)) ? last : undefined;
    }, 'the event');
    expect(event.type).toBe('reservations.expired');
  });

  it('two sweepers at once expire each hold once', async () => {
    const partnerId = await newPartner(a.deps, [{ productId: 107, channel: 'ota', allocated: 100 }]);
    const pools = await a.deps.pool.query(`SELECT id FROM inventory.pools WHERE partner_id = $1`, [
      partnerId,
    ]);
    const poolId = pools.rows[0].id;
    // 60 holds written directly, already past expiry (the sweepers are handed a fixed `now`).
    const past = new Date(Date.now() - 60_000);
    await a.deps.pool.query(
      `WITH r AS (
         INSERT INTO inventory.reservations (id, partner_id, pool_id, product_id, visit_date, day_type, status, items,
           quantity, total_amount, currency, expires_at, created_at)
         SELECT gen_random_uuid(), $1, $2, 107, CURRENT_DATE + 1, 'weekday', 'ON_HOLD',
                '[{"customer_type":"adult","quantity":1,"unit_amount":18800}]', 1, 18800, 'USD', $3, $3
         FROM generate_series(1, 60) RETURNING id)
       INSERT INTO inventory.inventory_ledger (pool_id, kind, held_delta, reference)
       SELECT $2, 'hold', 1, 'reservation:' || id FROM r`,
      [partnerId, poolId, past],
    );
    await a.deps.pool.query(`UPDATE inventory.pools SET held = held + 60 WHERE id = $1`, [poolId]);
    const now = new Date();
    const counts = await Promise.all([
      expireHolds(a.deps.pool, now, { batchSize: 7 }),
      expireHolds(b.deps.pool, now, { batchSize: 7 }),
      expireHolds(a.deps.pool, now, { batchSize: 7 }),
    ]);
    // Every stale hold in the database was expired once. The scheduler's own sweep may have claimed some
    // of them (SKIP LOCKED lets each sweeper pass over rows another one holds) and still be committing
    // when ours return, so wait for the last of them, then check nothing was expired twice.
    const { rows } = await waitFor(async () => {
      const r = await a.deps.pool.query(
        `SELECT count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired, count(*)::int AS total
         FROM inventory.reservations WHERE pool_id = $1`,
        [poolId],
      );
      return r.rows[0].expired === 60 ? r : undefined;
    }, 'every hold expired');
    expect(rows[0]).toEqual({ expired: 60, total: 60 });
    expect(counts.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(60);
    const expiries = await a.deps.pool.query(
      `SELECT count(*)::int AS n FROM inventory.inventory_ledger WHERE pool_id = $1 AND kind = 'expire'`,
      [poolId],
    );
    expect(expiries.rows[0].n).toBe(60);
    const pool = await a.deps.pool.query(`SELECT held FROM inventory.pools WHERE id = $1`, [poolId]);
    expect(pool.rows[0].held).toBe(0);
    expect((await checkLedger(a.deps.pool)).ok).toBe(true);
  });
});
