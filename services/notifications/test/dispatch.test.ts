// The dispatcher and the feed on their own (events published onto the real stream as inventory would):
// one slow receiver never holds up another (with a control run showing the starvation the per-endpoint
// limit prevents), URLs are checked again at delivery time, deleting a webhook drops its deliveries,
// the feed never skips or repeats under concurrent commits (with the unguarded control), metrics.
import { randomUUID } from 'node:crypto';
import {
  type App,
  closeServiceDeps,
  createServiceDeps,
  type PartnerEventsData,
  type ServiceDeps,
} from '@cruise/shared';
import { createTestContext, injectAsGateway, type TestContext } from '@cruise/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, webhookSecretSealer } from '../src/app.ts';
import { EVENT_WRITER_LOCK, storeEvents, toPayload } from '../src/domain/event-store.ts';
import { cursorCodec, readFeed } from '../src/domain/feed.ts';
import { newWebhookSecret } from '../src/domain/signing.ts';
import { eventually, partnerHeaders, publishPartnerEvents, type Receiver, startReceiver } from './support.ts';

interface Running {
  ctx: TestContext;
  deps: ServiceDeps;
  app: App;
}
const running: Running[] = [];
const receivers: Receiver[] = [];

async function start(env: Record<string, string>): Promise<Running> {
  const ctx = await createTestContext(env);
  const deps = await createServiceDeps(ctx.config, 'notifications');
  const app = injectAsGateway(await buildApp(ctx.config, deps, { logger: false }), ctx.config.INTERNAL_TOKEN);
  await app.ready();
  const r = { ctx, deps, app };
  running.push(r);
  return r;
}

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  for (const r of running) {
    await r.app.close();
    await closeServiceDeps(r.deps);
    await r.ctx.cleanup();
  }
});

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
  return res.json() as { webhook_id: string; secret: string };
}

/** A receiver that holds every request until `release()`; counts how many it holds at once. */
function gate(rx: Receiver) {
  let open: () => void = () => {};
  let opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const state = { inFlight: 0, maxInFlight: 0 };
  rx.answer = async () => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await opened;
    state.inFlight--;
    return 200;
  };
  return {
    state,
    release() {
      open();
      opened = Promise.resolve();
    },
  };
}

describe('per-endpoint concurrency', () => {
  async function slowAndFast(perEndpoint: string) {
    const r = await start({
      WEBHOOK_WORKER_CONCURRENCY: '4',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: perEndpoint,
      WEBHOOK_TIMEOUT_MS: '120000',
    });
    const slow = await receiver();
    const fast = await receiver();
    const held = gate(slow);
    const [p1, p2] = [randomUUID(), randomUUID()];
    await subscribe(r, p1, slow.url);
    await subscribe(r, p2, fast.url);
    // The slow receiver's events come one by one, each while the earlier ones are still held: each is
    // sent by a job of its own (a batch job finds the earlier ones claimed), which is how a receiver that
    // hangs piles up jobs in a dispatcher. Then eight more at once.
    for (let i = 1; i <= 4; i++) {
      await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: p1 }]);
      await eventually(
        () => held.state.inFlight >= Math.min(i, Number(perEndpoint)),
        `the slow receiver holding ${i}`,
      );
    }
    await publishPartnerEvents(
      r.deps.nc,
      r.ctx.config.NATS_PREFIX,
      Array.from({ length: 8 }, () => ({ partnerId: p1 })),
    );
    await publishPartnerEvents(
      r.deps.nc,
      r.ctx.config.NATS_PREFIX,
      Array.from({ length: 5 }, () => ({ partnerId: p2 })),
    );
    return { r, slow, fast, held };
  }

  it('control: without a per-endpoint limit, a slow receiver takes every worker and starves the others', async () => {
    const { fast, held, r } = await slowAndFast('1000');
    expect(held.state.inFlight).toBe(4);
    // The fast receiver's deliveries are stored and waiting, yet none can start.
    await eventually(async () => {
      const { rows } = await r.deps.pool.query(
        `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'PENDING'`,
      );
      return rows[0].n === 17;
    }, 'all deliveries stored');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fast.received).toHaveLength(0);
    held.release();
    await eventually(() => fast.received.length === 5, 'the fast receiver after the slow one let go');
  });

  it('with the limit, the fast receiver gets everything while the slow one holds its two slots', async () => {
    const { fast, held, slow } = await slowAndFast('2');
    await eventually(() => fast.acceptedIds().size === 5, 'every event at the fast receiver');
    expect(held.state.maxInFlight).toBe(2);
    expect(held.state.inFlight).toBe(2);
    held.release();
    await eventually(() => slow.acceptedIds().size === 12, 'the slow receiver catching up');
    expect(held.state.maxInFlight).toBe(2);
  });
});

describe('URL safety in production mode (WEBHOOK_ALLOW_PRIVATE_URLS=false)', () => {
  it('refuses http, loopback, private, link-local, CGNAT and mapped addresses when saving', async () => {
    const r = await start({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    const headers = partnerHeaders(r.ctx.config, randomUUID());
    for (const url of [
      'http://ota.example/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.0.0.8/hook',
      'https://192.168.1.1/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/hook',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://does-not-exist.invalid/hook',
    ]) {
      const res = await r.app.inject({
        method: 'POST',
        url: '/api/ota/webhooks',
        headers,
        payload: { url, events: ['*'] },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('checks again at delivery time: an address that turned private is never contacted', async () => {
    const r = await start({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false', WEBHOOK_RETRY_DELAYS_MS: '100' });
    const rx = await receiver();
    const partner = randomUUID();
    const sealer = webhookSecretSealer(r.ctx.config);
    // Saved while the names resolved to public addresses; now they point at loopback (DNS changed).
    const ids: string[] = [];
    for (const url of [`https://127.0.0.1:${rx.port}/hook`, `https://localhost:${rx.port}/hook`]) {
      const id = randomUUID();
      ids.push(id);
      await r.deps.pool.query(
        `INSERT INTO notifications.webhooks (webhook_id, partner_id, url, events, status, secret_sealed)
         VALUES ($1, $2, $3, '{*}', 'ENABLED', $4)`,
        [id, partner, url, sealer.seal(newWebhookSecret())],
      );
    }
    await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
    const { rows } = await eventually(async () => {
      const res = await r.deps.pool.query<{ status: string; last_error: string; attempts: number }>(
        `SELECT status, last_error, attempts FROM notifications.deliveries WHERE webhook_id = ANY($1::uuid[])`,
        [ids],
      );
      return res.rows.length === 2 && res.rows.every((d) => d.status === 'FAILED') ? res : null;
    }, 'both deliveries refused');
    for (const d of rows) {
      expect(d.last_error).toMatch(/^blocked: /);
      expect(d.attempts).toBe(2);
    }
    expect(rx.received).toHaveLength(0);
  });
});

describe('hostile or broken receivers', () => {
  async function lastAttempts(r: Running, partner: string) {
    const { rows } = await r.deps.pool.query<{
      attempt: number;
      status_code: number | null;
      error: string | null;
    }>(
      `SELECT a.attempt, a.status_code, a.error FROM notifications.delivery_attempts a
       JOIN notifications.deliveries d ON d.delivery_id = a.delivery_id WHERE d.partner_id = $1 ORDER BY a.id`,
      [partner],
    );
    return rows;
  }

  it('does not follow a redirect: the 302 is a failed attempt and the target gets nothing', async () => {
    const r = await start({ WEBHOOK_RETRY_DELAYS_MS: '100' });
    const target = await receiver();
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(302, { location: target.url }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const partner = randomUUID();
      await subscribe(r, partner, `http://127.0.0.1:${port}/hook`);
      await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
      const attempts = await eventually(async () => {
        const rows = await lastAttempts(r, partner);
        return rows.length === 2 ? rows : null;
      }, 'two attempts');
      expect(attempts.map((a) => a.status_code)).toEqual([302, 302]);
      expect(target.received).toHaveLength(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reads at most a few KiB of an endless answer and records the 2xx', async () => {
    const r = await start({});
    const partner = randomUUID();
    const { createServer } = await import('node:http');
    let written = 0;
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && written < 512 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (!res.destroyed && written < 512 * 1024 * 1024) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      await subscribe(r, partner, `http://127.0.0.1:${port}/hook`);
      await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
      const [attempt] = await eventually(async () => {
        const rows = await lastAttempts(r, partner);
        return rows.length ? rows : null;
      }, 'the attempt');
      expect(attempt).toMatchObject({ status_code: 200, error: null });
      // The dispatcher hung up long before the 512 MiB the receiver was ready to send.
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('gives up on a receiver that does not answer within the timeout and retries', async () => {
    const r = await start({ WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_DELAYS_MS: '100' });
    const rx = await receiver();
    rx.answer = (_req, n) =>
      n === 1 ? new Promise((resolve) => setTimeout(() => resolve(200), 5_000)) : 200;
    const partner = randomUUID();
    await subscribe(r, partner, rx.url);
    await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
    const attempts = await eventually(async () => {
      const rows = await lastAttempts(r, partner);
      return rows.length === 2 ? rows : null;
    }, 'a timed-out attempt and a retry');
    expect(attempts[0]).toMatchObject({ status_code: null, error: 'timeout after 300 ms' });
    expect(attempts[1]).toMatchObject({ status_code: 200 });
  });
});

describe('webhook deletion', () => {
  it('drops its pending deliveries: nothing more is sent', async () => {
    const r = await start({ WEBHOOK_RETRY_DELAYS_MS: '200,200,200,200,200,200,200,200,200,200' });
    const rx = await receiver();
    rx.answer = () => 500;
    const partner = randomUUID();
    const hook = await subscribe(r, partner, rx.url);
    await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
    await eventually(() => rx.received.length >= 2, 'retries under way');
    const del = await r.app.inject({
      method: 'DELETE',
      url: `/api/ota/webhooks/${hook.webhook_id}`,
      headers: partnerHeaders(r.ctx.config, partner),
    });
    expect(del.statusCode).toBe(204);
    const { rows } = await r.deps.pool.query('SELECT 1 FROM notifications.deliveries WHERE webhook_id = $1', [
      hook.webhook_id,
    ]);
    expect(rows).toHaveLength(0);
    const seen = rx.received.length;
    // Two more retry periods pass with nothing sent (a request already in flight may still land).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(rx.received.length).toBeLessThanOrEqual(seen + 1);
  });
});

describe('the feed under concurrent commits', () => {
  const event = (partnerId: string): PartnerEventsData['events'][number] => ({
    event_id: randomUUID(),
    type: 'allocation.updated',
    partner_id: partnerId,
    created_at: new Date().toISOString(),
    revision: 1,
    data: { pool: {} },
  });

  /** Reads the whole feed from `cursor` on, once. */
  async function poll(r: Running, partner: string, cursor: string | undefined) {
    const codec = cursorCodec(r.ctx.config.ADMIN_TOKEN);
    const page = await readFeed(r.deps.pool, codec, { partnerId: partner, after: cursor, limit: 500 });
    if (!page.ok) throw new Error(page.detail);
    return { ids: page.data.map((e) => e.event_id), cursor: page.next_cursor };
  }

  it('control: positions taken without the writer lock commit out of order and a poller skips one', async () => {
    const r = await start({});
    const partner = randomUUID();
    const insert = `INSERT INTO notifications.events (event_id, partner_id, type, revision, payload, created_at)
      VALUES ($1, $2, 'allocation.updated', 1, $3, now())`;
    const [early, late] = [event(partner), event(partner)];
    const t1 = await r.deps.pool.connect();
    await t1.query('BEGIN');
    await t1.query(insert, [early.event_id, partner, JSON.stringify(toPayload(early))]);
    await r.deps.pool.query(insert, [late.event_id, partner, JSON.stringify(toPayload(late))]);
    const first = await poll(r, partner, undefined);
    expect(first.ids).toEqual([late.event_id]);
    await t1.query('COMMIT');
    t1.release();
    const second = await poll(r, partner, first.cursor);
    expect(second.ids).toEqual([]); // `early` committed at a lower position: skipped for good
  });

  it('with the writer lock a later position waits for the earlier commit, so nothing is skipped', async () => {
    const r = await start({});
    const partner = randomUUID();
    const [early, late] = [event(partner), event(partner)];
    const t1 = await r.deps.pool.connect();
    await t1.query('BEGIN');
    await t1.query('SELECT pg_advisory_xact_lock($1)', [EVENT_WRITER_LOCK]);
    await t1.query(
      `INSERT INTO notifications.events (event_id, partner_id, type, revision, payload, created_at)
       VALUES ($1, $2, 'allocation.updated', 1, $3, now())`,
      [early.event_id, partner, JSON.stringify(toPayload(early))],
    );
    const storing = storeEvents(r.deps.pool, [late]);
    const first = await poll(r, partner, undefined);
    expect(first.ids).toEqual([]);
    await t1.query('COMMIT');
    t1.release();
    await storing;
    const second = await poll(r, partner, first.cursor);
    expect(second.ids).toEqual([early.event_id, late.event_id]);
  });

  it('eight concurrent writers and a poller: every event exactly once, in position order', async () => {
    const r = await start({ DATABASE_POOL_SIZE: '12' });
    const partner = randomUUID();
    const written: string[] = [];
    let writing = true;
    const writers = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 25; i++) {
        const batch = Array.from({ length: 1 + (i % 3) }, () => event(partner));
        await storeEvents(r.deps.pool, batch);
        written.push(...batch.map((e) => e.event_id));
      }
    });
    const seen: string[] = [];
    const poller = (async () => {
      let cursor: string | undefined;
      while (writing) {
        const page = await poll(r, partner, cursor);
        seen.push(...page.ids);
        cursor = page.cursor;
      }
      const last = await poll(r, partner, cursor);
      seen.push(...last.ids);
    })();
    await Promise.all(writers);
    writing = false;
    await poller;
    expect(seen).toHaveLength(written.length);
    expect(new Set(seen)).toEqual(new Set(written));
    const { rows } = await r.deps.pool.query<{ event_id: string }>(
      'SELECT event_id FROM notifications.events WHERE partner_id = $1 ORDER BY position',
      [partner],
    );
    expect(seen).toEqual(rows.map((x) => x.event_id));
  });
});

describe('metrics', () => {
  it('exposes deliveries by result, attempts, delivery lag and queue depth', async () => {
    const r = await start({ WEBHOOK_RETRY_DELAYS_MS: '100' });
    const rx = await receiver();
    rx.answer = (_req, n) => (n === 1 ? 500 : 200);
    const partner = randomUUID();
    await subscribe(r, partner, rx.url);
    await publishPartnerEvents(r.deps.nc, r.ctx.config.NATS_PREFIX, [{ partnerId: partner }]);
    await eventually(() => rx.acceptedIds().size === 1, 'the delivery');
    const metrics = await eventually(async () => {
      const res = await r.app.inject('/metrics');
      return /notifications_webhook_deliveries_total\{result="succeeded"[^}]*\} 1\n/.test(res.body)
        ? res.body
        : null;
    }, 'the succeeded delivery counted');
    expect(metrics).toMatch(/notifications_webhook_attempts_total\{outcome="5xx"[^}]*\} 1\n/);
    expect(metrics).toMatch(/notifications_webhook_attempts_total\{outcome="2xx"[^}]*\} 1\n/);
    expect(metrics).toMatch(/notifications_webhook_delivery_lag_seconds_count\{[^}]*\} 1\n/);
    expect(metrics).toMatch(
      /bullmq_queue_jobs\{[^}]*queue="webhook-delivery"[^}]*state="(waiting|delayed|active)"/,
    );
  });
});
