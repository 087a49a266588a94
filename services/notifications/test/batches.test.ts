// First attempts in batches: a burst to one receiver goes out with at most the per-endpoint limit in
// flight over reused keep-alive connections, every attempt recorded once; claims are disjoint under concurrency (with the
// unguarded control), lapse when their dispatcher dies and are HOT updates (with the control: a table
// without free space on its pages); recording a batch and claiming the next in one statement keeps them
// apart; claimed bodies are the stored envelopes byte for byte, cached or not; recording a batch reads only its own rows
// (with the control: the old sweep index made it read every PENDING row); a 410 in the middle of a batch
// stops it and leaves the rest PENDING for when the webhook is enabled again.
import { randomUUID } from 'node:crypto';
import {
  type App,
  closeServiceDeps,
  createServiceDeps,
  type ServiceDeps,
  withTransaction,
} from '@cruise/shared';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, webhookSecretSealer } from '../src/app.ts';
import {
  type AttemptRecord,
  claimFirstAttempts,
  type EventBodies,
  eventBodyCache,
  recordAndClaim,
  recordAttempts,
} from '../src/domain/deliveries.ts';
import { storeEvents } from '../src/domain/event-store.ts';
import { createWebhook } from '../src/domain/webhooks.ts';
import { CONNECTIONS_PER_ORIGIN } from '../src/workers/receiver-client.ts';
import { eventually, partnerHeaders, publishPartnerEvents, type Receiver, startReceiver } from './support.ts';

interface Bare {
  ctx: TestContext;
  deps: ServiceDeps;
}
interface Running extends Bare {
  app: App;
}
const running: (Bare & { app?: App })[] = [];
const receivers: Receiver[] = [];

/** The service with its dispatcher. */
async function start(env: Record<string, string>): Promise<Running> {
  const ctx = await createTestContext(env);
  const deps = await createServiceDeps(ctx.config, 'notifications');
  const app = injectAsGateway(await buildApp(ctx.config, deps, { logger: false }), ctx.config.INTERNAL_TOKEN);
  await app.ready();
  const r = { ctx, deps, app };
  running.push(r);
  return r;
}

/** The database alone: no dispatcher claims anything behind the test's back. */
async function bare(): Promise<Bare> {
  const ctx = await createTestContext({});
  const deps = await createServiceDeps(ctx.config, 'notifications');
  const r = { ctx, deps };
  running.push(r);
  return r;
}

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  for (const r of running) {
    await r.app?.close();
    await closeServiceDeps(r.deps);
    await r.ctx.cleanup();
  }
});

/** A webhook created as the route creates it, straight in the database. */
async function subscribeBare(r: Bare, partner: string, url: string) {
  const created = await withTransaction(r.deps.pool, (client) =>
    createWebhook(client, webhookSecretSealer(r.ctx.config), partner, { url, events: ['*'] }, true),
  );
  if (!created.ok) throw new Error(created.detail);
  return created.webhook;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function subscribe(r: Running, partner: string, url: string) {
  const res = await r.app.inject({
    method: 'POST',
    url: '/api/ota/webhooks',
    headers: partnerHeaders(r.ctx.config, partner),
    payload: { url, events: ['*'] },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { webhook_id: string };
}

/** `n` PENDING first attempts of one webhook, stored as the consumer stores them (no dispatcher running). */
async function storeMany(r: Bare, partner: string, n: number, bodies?: EventBodies) {
  return storeEvents(
    r.deps.pool,
    Array.from({ length: n }, (_, i) => ({
      event_id: randomUUID(),
      type: 'allocation.updated' as const,
      partner_id: partner,
      created_at: new Date().toISOString(),
      revision: i + 1,
      data: { pool: {} },
    })),
    bodies,
  );
}

/** Attempt 1 of each delivery, answered 204. */
function succeeded(ids: string[]): AttemptRecord[] {
  return ids.map((deliveryId) => ({
    deliveryId,
    attempt: 1,
    result: { startedAt: new Date(), durationMs: 1, statusCode: 204, error: null },
    next: { kind: 'succeeded' },
  }));
}

/** One claim of 50 in a transaction, with that transaction's row updates and how many of them were HOT. */
async function claimCounted(r: Bare, webhookId: string) {
  const client = await r.deps.pool.connect();
  try {
    await client.query('BEGIN');
    const batch = await claimFirstAttempts(client as never, webhookId, 50, 60_000);
    const { rows } = await client.query<{ updated: number; hot: number }>(
      `SELECT pg_stat_get_xact_tuples_updated('notifications.deliveries'::regclass)::int AS updated,
         pg_stat_get_xact_tuples_hot_updated('notifications.deliveries'::regclass)::int AS hot`,
    );
    await client.query('COMMIT');
    return { claimed: batch?.deliveries.length ?? 0, ...rows[0]! };
  } finally {
    client.release();
  }
}

describe('a burst to one receiver', () => {
  it('goes out with at most the per-endpoint limit in flight over reused connections, every attempt recorded once', async () => {
    const r = await start({ WEBHOOK_CONCURRENCY_PER_ENDPOINT: '3' });
    const rx = await receiver();
    let inFlight = 0;
    let maxInFlight = 0;
    rx.answer = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return 204;
    };
    const partner = randomUUID();
    const hook = await subscribe(r, partner, rx.url);
    // 300 events in three messages: 300 first attempts, several batches per sender.
    for (let i = 0; i < 3; i++) {
      await publishPartnerEvents(
        r.deps.nc,
        r.ctx.config.NATS_PREFIX,
        Array.from({ length: 100 }, () => ({ partnerId: partner })),
      );
    }
    await eventually(() => rx.acceptedIds().size === 300, 'all 300 events at the receiver', 60_000);
    expect(rx.received).toHaveLength(300);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    // Connections are kept alive and reused: a handful for 300 requests.
    expect(new Set(rx.received.map((q) => q.socket)).size).toBeLessThanOrEqual(CONNECTIONS_PER_ORIGIN);
    // A batch is recorded after its last request was answered: wait for the last record.
    const counts = await eventually(async () => {
      const { rows } = await r.deps.pool.query<{ n: number; attempts: number; succeeded: number }>(
        `SELECT count(DISTINCT d.delivery_id)::int AS n, count(a.id)::int AS attempts,
           count(*) FILTER (WHERE d.status = 'SUCCEEDED' AND d.attempts = 1)::int AS succeeded
         FROM notifications.deliveries d LEFT JOIN notifications.delivery_attempts a USING (delivery_id)
         WHERE d.webhook_id = $1`,
        [hook.webhook_id],
      );
      return rows[0]!.succeeded === 300 ? rows[0] : null;
    }, 'every attempt recorded');
    expect(counts).toEqual({ n: 300, attempts: 300, succeeded: 300 });
  });
});

describe('claims', () => {
  it('control: two claimers reading due first attempts without a lock take the same deliveries', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 40);
    // The unguarded claim: read the due rows, then move them on. Both read before either moves them on
    // (the interleaving two dispatchers hit whenever their reads overlap).
    const read = async () => {
      const { rows } = await r.deps.pool.query<{ delivery_id: string }>(
        `SELECT delivery_id FROM notifications.deliveries
         WHERE webhook_id = $1 AND status = 'PENDING' AND attempts = 0 AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT 20`,
        [hook.webhook_id],
      );
      return rows.map((x) => x.delivery_id);
    };
    const [a, b] = await Promise.all([read(), read()]);
    for (const ids of [a, b]) {
      await r.deps.pool.query(
        `UPDATE notifications.deliveries SET next_attempt_at = now() + interval '1 minute'
         WHERE delivery_id = ANY($1::uuid[])`,
        [ids],
      );
    }
    expect(a.filter((id) => b.includes(id)).length).toBeGreaterThan(0);
  });

  it('eight concurrent claimers never share a delivery, and together take every one', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    const stored = await storeMany(r, partner, 400);
    const claimer = async () => {
      const mine: string[] = [];
      for (;;) {
        const batch = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 20, 60_000);
        if (!batch) return mine;
        mine.push(...batch.deliveries.map((d) => d.delivery_id));
      }
    };
    const all = (await Promise.all(Array.from({ length: 8 }, claimer))).flat();
    expect(all).toHaveLength(400);
    expect(new Set(all)).toEqual(new Set(stored.map((d) => d.delivery_id)));
  });

  it('a claim whose dispatcher died lapses, and the deliveries are claimed again', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 5);
    const first = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 500);
    expect(first?.deliveries).toHaveLength(5);
    // While the lease runs, nobody else takes them.
    expect(await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 500)).toBeNull();
    const again = await eventually(
      () => claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 60_000),
      'the lapsed claim taken again',
    );
    expect(new Set(again.deliveries.map((d) => d.delivery_id))).toEqual(
      new Set(first!.deliveries.map((d) => d.delivery_id)),
    );
  });

  it('a claim is a HOT update: no new entry in any index', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 400);
    expect(await claimCounted(r, hook.webhook_id)).toEqual({ claimed: 50, updated: 50, hot: 50 });
  });

  it('control: without free space on its pages (fillfactor 100) a claim is not a HOT update', async () => {
    const r = await bare();
    await r.deps.pool.query('ALTER TABLE notifications.deliveries SET (fillfactor = 100)');
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 400);
    const counted = await claimCounted(r, hook.webhook_id);
    expect(counted.updated).toBe(50);
    expect(counted.hot).toBeLessThan(50);
  });

  it('recording a batch and claiming the next in one statement: the batch recorded, the next claimed apart from any other', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 120);
    const first = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 60_000);
    const firstIds = first!.deliveries.map((d) => d.delivery_id);
    const { recorded, next } = await recordAndClaim(r.deps.pool, succeeded(firstIds), {
      webhookId: hook.webhook_id,
      limit: 50,
      leaseMs: 60_000,
    });
    expect(recorded).toEqual(new Set(firstIds));
    const nextIds = next!.deliveries.map((d) => d.delivery_id);
    expect(nextIds).toHaveLength(50);
    expect(nextIds.filter((id) => firstIds.includes(id))).toEqual([]);
    // Another claimer gets the rest, none of the claimed batch.
    const rest = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 60_000);
    expect(rest!.deliveries).toHaveLength(20);
    expect(rest!.deliveries.filter((d) => nextIds.includes(d.delivery_id))).toEqual([]);
    // Recording the second batch claims nothing more (all claimed), and a stale record changes nothing.
    const last = await recordAndClaim(r.deps.pool, [...succeeded(nextIds), ...succeeded(firstIds)], {
      webhookId: hook.webhook_id,
      limit: 50,
      leaseMs: 60_000,
    });
    expect(last.recorded).toEqual(new Set(nextIds));
    expect(last.next).toBeNull();
    const { rows } = await r.deps.pool.query<{
      status: string;
      attempts: number;
      n: number;
      recorded: number;
    }>(
      `SELECT d.status, d.attempts, count(*)::int AS n, sum((SELECT count(*) FROM notifications.delivery_attempts a
         WHERE a.delivery_id = d.delivery_id))::int AS recorded
       FROM notifications.deliveries d WHERE d.webhook_id = $1 GROUP BY 1, 2 ORDER BY 1`,
      [hook.webhook_id],
    );
    expect(rows).toEqual([
      { status: 'PENDING', attempts: 0, n: 20, recorded: 0 },
      { status: 'SUCCEEDED', attempts: 1, n: 100, recorded: 100 },
    ]);
  });

  it('claimed bodies are the stored envelopes as PostgreSQL renders them, from the cache or the table alike', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    const bodies = eventBodyCache();
    await storeMany(r, partner, 40, bodies);
    const cached = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 20, 60_000, bodies);
    // Another process's claim: nothing cached, bodies read from the events table.
    const read = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 20, 60_000, eventBodyCache());
    const claimed = [...cached!.deliveries, ...read!.deliveries];
    expect(claimed).toHaveLength(40);
    const { rows } = await r.deps.pool.query<{ event_id: string; body: string }>(
      'SELECT event_id, payload::text AS body FROM notifications.events WHERE partner_id = $1',
      [partner],
    );
    const stored = new Map(rows.map((x) => [x.event_id, x.body]));
    for (const d of claimed) expect(d.body).toBe(stored.get(d.event_id));
    expect(cached!.deliveries.every((d) => bodies.get(d.event_id) === d.body)).toBe(true);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows of `notifications.deliveries` a statement's scans read (returned or filtered out), from its plan. */
function deliveriesRowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] === 'deliveries' && node['Node Type'].includes('Scan')
      ? (node['Actual Rows'] +
          (node['Rows Removed by Filter'] ?? 0) +
          (node['Rows Removed by Index Recheck'] ?? 0)) *
        node['Actual Loops']
      : 0;
  return own + (node.Plans ?? []).reduce((n, p) => n + deliveriesRowsRead(p), 0);
}

/** Records a claimed batch as the dispatcher does, through EXPLAIN ANALYZE: the rows its plan read. */
async function recordExplained(r: Bare, ids: string[], release: string[] = []): Promise<number> {
  let plan: PlanNode | undefined;
  const explaining = {
    query: async (text: string, params: unknown[]) => {
      const res = await r.deps.pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
        params,
      );
      plan = res.rows[0]!['QUERY PLAN'][0]!.Plan;
      return { rows: [] };
    },
  };
  const records: AttemptRecord[] = ids.map((deliveryId) => ({
    deliveryId,
    attempt: 1,
    result: { startedAt: new Date(), durationMs: 1, statusCode: 204, error: null },
    next: { kind: 'succeeded' },
  }));
  await recordAttempts(explaining as never, records, release);
  return deliveriesRowsRead(plan!);
}

describe('recording a batch', () => {
  // The table is never analysed here (CI runs without autovacuum), as in production when a burst
  // arrives after a quiet period: the planner believes PENDING rows are few. 10,000 of them, so that a
  // sequential scan is no plan the planner would pick for 50 rows.
  it('control: with the sweep’s old index on status = PENDING, recording 50 attempts reads every PENDING row', async () => {
    const r = await bare();
    await r.deps.pool.query('DROP INDEX notifications.deliveries_pending_idx');
    await r.deps.pool.query(
      `CREATE INDEX deliveries_pending_idx ON notifications.deliveries (next_attempt_at) WHERE status = 'PENDING'`,
    );
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 10_000);
    const batch = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 60_000);
    expect(
      await recordExplained(
        r,
        batch!.deliveries.map((d) => d.delivery_id),
      ),
    ).toBeGreaterThanOrEqual(10_000);
  });

  it('reads only the rows it records, however many deliveries are PENDING', async () => {
    const r = await bare();
    const partner = randomUUID();
    const hook = await subscribeBare(r, partner, 'http://127.0.0.1:9/hook');
    await storeMany(r, partner, 10_000);
    const batch = await claimFirstAttempts(r.deps.pool, hook.webhook_id, 50, 60_000);
    const ids = batch!.deliveries.map((d) => d.delivery_id);
    // 40 sent and recorded, 10 claimed but never sent (a spent budget): handed back.
    expect(await recordExplained(r, ids.slice(0, 40), ids.slice(40))).toBeLessThanOrEqual(ids.length);
    const { rows } = await r.deps.pool.query<{ status: string; attempts: number; due: boolean; n: number }>(
      `SELECT status, attempts, next_attempt_at <= now() AS due, count(*)::int AS n
       FROM notifications.deliveries WHERE delivery_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 ORDER BY 1`,
      [ids],
    );
    expect(rows).toEqual([
      { status: 'PENDING', attempts: 0, due: true, n: 10 },
      { status: 'SUCCEEDED', attempts: 1, due: null, n: 40 },
    ]);
  });
});

describe('a 410 in the middle of a batch', () => {
  it('stops the batch: the rest stays PENDING, unsent and unattempted, and the webhook is disabled', async () => {
    const r = await start({ WEBHOOK_CONCURRENCY_PER_ENDPOINT: '1' });
    const rx = await receiver();
    rx.answer = (_req, n) => (n === 3 ? 410 : 204);
    const partner = randomUUID();
    const hook = await subscribe(r, partner, rx.url);
    await publishPartnerEvents(
      r.deps.nc,
      r.ctx.config.NATS_PREFIX,
      Array.from({ length: 10 }, () => ({ partnerId: partner })),
    );
    const counts = await eventually(async () => {
      const { rows } = await r.deps.pool.query<{ status: string; attempts: number; n: number }>(
        `SELECT status, attempts, count(*)::int AS n FROM notifications.deliveries WHERE webhook_id = $1
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [hook.webhook_id],
      );
      return rows.some((x) => x.status === 'FAILED') ? rows : null;
    }, 'the 410 recorded');
    expect(counts).toEqual([
      { status: 'FAILED', attempts: 1, n: 1 },
      { status: 'PENDING', attempts: 0, n: 7 },
      { status: 'SUCCEEDED', attempts: 1, n: 2 },
    ]);
    expect(rx.received).toHaveLength(3);
    const { rows } = await r.deps.pool.query<{ status: string }>(
      'SELECT status FROM notifications.webhooks WHERE webhook_id = $1',
      [hook.webhook_id],
    );
    expect(rows[0]!.status).toBe('DISABLED');
  });
});
