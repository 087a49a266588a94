// Business metrics, dashboards and alerts: a journey through the real services as processes (reserve,
// a refused reservation, a bad and a good payment webhook, a batch, scans, a direct sale, a rate-limited
// partner, a release inventory refuses, OCTO bookings confirmed and cancelled, a webhook delivered to a
// real receiver) must move every business series on the services' /metrics; the Grafana dashboard and
// the Prometheus rules in ops/ may name only series that a real scrape exposes.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createTestContext, REPO_ROOT, type ServiceName, type TestContext } from '@cruise/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  pay,
  SERVICE_NAMES,
  type System,
  seedCatalogue,
  startSystem,
  visitDate,
} from '../resilience/system.ts';

type Sample = { name: string; labels: Record<string, string>; value: number };
type Scrape = { samples: Sample[]; families: Set<string> };

/** Parses the Prometheus text format (families from `# TYPE`, one sample per line). */
function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      families.add(type[1]!);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_count', '_sum']) families.add(type[1]! + s);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, families };
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

let ctx: TestContext;
let system: System;
/** Every service of the system, the notifications service included. */
const SCRAPED: ServiceName[] = [...SERVICE_NAMES, 'notifications'];
const scrape = async (names: ServiceName[]): Promise<Scrape> => {
  const texts = await Promise.all(
    names.map(async (name) => {
      // METRICS_TOKEN guards /metrics in production: Prometheus sends it as a bearer token.
      const res = await call('GET', `${system.url(name)}/metrics`, { token: system.secrets.metricsToken });
      expect(res.status, `${name} /metrics`).toBe(200);
      return res.text;
    }),
  );
  return parseMetrics(texts.join('\n'));
};
const scrapeAll = () => scrape(SCRAPED);

/** A partner's webhook receiver: answers 204 to every delivery and counts them. */
let receiver: Server;
let received = 0;

beforeAll(async () => {
  ctx = await createTestContext();
  await seedCatalogue(ctx.config.DATABASE_URL);
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    env: { BATCH_CHUNK_SIZE: '20', EXPIRY_SWEEP_SECONDS: '1', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
    withNotifications: true,
    // Six processes booting on a shared, loaded machine; readiness is what is awaited, not a speed claim.
    readyTimeoutMs: 180_000,
  });
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
}, 400_000);

afterAll(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  await system?.stop();
  await ctx?.cleanup();
});

describe('a journey moves every business metric', () => {
  let before: Scrape;
  let after: Scrape;
  let acme: Partner;

  beforeAll(async () => {
    before = await scrapeAll();
    const op = operator(system);
    acme = await op.createPartner('Metrics Travel', 1000);
    await op.allocate(acme.partner_id, 106, 'ota', 5);
    await op.allocate(acme.partner_id, 106, 'reseller', 100);
    const device = await op.createDevice();
    const as = (method: string, p: string, body?: unknown) =>
      call(method, `${system.gateway}${p}`, { token: acme.api_key, body });

    // The partner subscribes to cancellations: the one below is delivered to its receiver.
    const address = receiver.address() as { port: number };
    expectStatus(
      await as('POST', '/api/ota/webhooks', {
        url: `http://127.0.0.1:${address.port}/hooks`,
        events: ['reservation.cancelled'],
      }),
      201,
      'webhook',
    );

    // Reserve, then a reservation that cannot be held, then a cancelled one.
    const date = visitDate(3);
    const hold = expectStatus(
      await as('POST', '/api/ota/reservations', {
        product_id: 106,
        visit_date: date,
        items: [{ customer_type: 'adult', quantity: 2 }],
      }),
      201,
      'reserve',
    ) as { reservation_id: string; total: { amount: number; currency: string } };
    const refused = await as('POST', '/api/ota/reservations', {
      product_id: 106,
      visit_date: date,
      items: [{ customer_type: 'adult', quantity: 4 }],
    });
    expect(refused.status).toBe(409);
    const toCancel = expectStatus(
      await as('POST', '/api/ota/reservations', {
        product_id: 106,
        visit_date: date,
        items: [{ customer_type: 'adult', quantity: 1 }],
      }),
      201,
      'reserve to cancel',
    ) as { reservation_id: string };
    expectStatus(await as('POST', `/api/ota/reservations/${toCancel.reservation_id}/cancel`), 200, 'cancel');

    // A forged webhook, then the real payment.
    const forged = await call('POST', `${system.gateway}/payments/notify`, {
      body: {
        payment_id: 'pay_forged',
        reservation_id: hold.reservation_id,
        status: 'SUCCEEDED',
        amount: hold.total,
      },
      headers: { 'x-payment-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    });
    expect(forged.status).toBe(401);
    const paid = expectStatus(await pay(system, hold, 'pay_metrics_1'), 200, 'pay') as {
      tickets: { ticket_code: string }[];
    };

    // A batch: the 202 names where to poll and when.
    const reseller = expectStatus(
      await as('POST', '/api/ota/resellers', { name: 'Metrics Reseller' }),
      201,
      'reseller',
    ) as {
      reseller_id: string;
    };
    const accepted = await as('POST', '/api/ota/tickets/bulk-generate', {
      product_id: 106,
      quantity: 60,
      reseller_id: reseller.reseller_id,
    });
    expect(accepted.status, accepted.text).toBe(202);
    const { batch_id } = accepted.body as { batch_id: string };
    expect(accepted.headers.get('location')).toBe(`/api/ota/batches/${batch_id}`);
    expect(Number(accepted.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (let i = 0; ; i++) {
      const batch = (await as('GET', `/api/ota/batches/${batch_id}`)).body as { status: string };
      if (batch.status === 'COMPLETED') break;
      if (i > 300) throw new Error(`batch not completed: ${JSON.stringify(batch)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Scans: accepted, then the same entitlement again.
    const code = paid.tickets[0]!.ticket_code;
    const qr = expectStatus(await as('POST', `/qr/${code}`), 200, 'qr') as { qr_token: string };
    const scan = (nonce: string) =>
      call('POST', `${system.gateway}/venue/redeem`, {
        token: device.device_key,
        body: { qr_token: qr.qr_token, function_code: 'FERRY', nonce },
      });
    expect((await scan('n-1')).status).toBe(200);
    expect((await scan('n-2')).status).toBe(409);

    // The operator's own sale, and a partner over its limit.
    await op.directOrder(106, date, [{ customer_type: 'adult', quantity: 1 }]);
    const slow = await op.createPartner('Slow Travel', 1);
    const first = await call('GET', `${system.gateway}/api/ota/reservations`, { token: slow.api_key });
    expect(first.status).toBe(200);
    const second = await call('GET', `${system.gateway}/api/ota/reservations`, { token: slow.api_key });
    expect(second.status).toBe(429);

    // A release inventory refuses (more sold units than the pool has): it waits for an operator.
    const db = new pg.Pool({ connectionString: ctx.config.DATABASE_URL, max: 1 });
    await db.query(
      `INSERT INTO issuance.pending_releases (ref, partner_id, product_id, channel, from_state, quantity, reason)
       VALUES ('test:refused-release', $1, 106, 'ota', 'sold', 1000, 'cancel')`,
      [acme.partner_id],
    );
    await db.end();

    // A reseller on OCTO: one booking confirmed on account, one cancelled, one confirm of an unknown uuid.
    const octoPartner = await op.createPartner('Metrics OCTO', 1000);
    await op.allocate(octoPartner.partner_id, 106, 'ota', 5);
    const octo = (p: string, body?: unknown) =>
      call('POST', `${system.gateway}/octo${p}`, { token: octoPartner.api_key, body });
    const availability = expectStatus(
      await octo('/availability', {
        productId: '106',
        optionId: 'DEFAULT',
        localDateStart: date,
        localDateEnd: date,
      }),
      200,
      'octo availability',
    ) as { id: string }[];
    const book = async () =>
      expectStatus(
        await octo('/bookings', {
          productId: '106',
          optionId: 'DEFAULT',
          availabilityId: availability[0]!.id,
          unitItems: [{ unitId: 'adult' }],
        }),
        200,
        'octo booking',
      ) as { uuid: string };
    const toConfirm = await book();
    expectStatus(
      await octo(`/bookings/${toConfirm.uuid}/confirm`, {
        contact: { fullName: 'Ada Lovelace', emailAddress: 'ada@example.com' },
      }),
      200,
      'octo confirm',
    );
    const toCancelOcto = await book();
    expectStatus(await octo(`/bookings/${toCancelOcto.uuid}/cancel`, {}), 200, 'octo cancel');
    const unknown = await octo('/bookings/6b1e7f9a-0c2d-4e3f-8a5b-7c9d1e2f3a4b/confirm', {});
    expect(unknown.status, unknown.text).toBe(400);

    // The webhook delivery is asynchronous: wait until the dispatcher has recorded it.
    for (let i = 0; ; i++) {
      const n = await scrape(['notifications']);
      if (value(n, 'notifications_webhook_deliveries_total', { result: 'succeeded' }) >= 1) break;
      if (i > 300) throw new Error(`the webhook was never delivered (received: ${received})`);
      await new Promise((r) => setTimeout(r, 100));
    }

    for (let i = 0; ; i++) {
      const list = await call('GET', `${system.gateway}/api/admin/pending-releases`, {
        token: system.secrets.adminToken,
      });
      const row = (
        list.body as { data: { ref: string; attempts: number; last_error: string | null }[] }
      ).data.find((r) => r.ref === 'test:refused-release');
      if (row && row.attempts > 0) {
        expect(row.last_error).toBeTruthy();
        break;
      }
      if (i > 200) throw new Error(`the refused release was never tried: ${list.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    after = await scrapeAll();
  }, 120_000);

  const moved = (name: string, labels: Record<string, string>, by: number) => {
    expect(
      value(after, name, labels) - value(before, name, labels),
      `${name} ${JSON.stringify(labels)}`,
    ).toBe(by);
  };

  it('reservations by outcome (REST and OCTO alike)', () => {
    moved('inventory_reservations_total', { outcome: 'held' }, 4);
    moved('inventory_reservations_total', { outcome: 'insufficient_inventory' }, 1);
    moved('inventory_reservations_total', { outcome: 'cancelled' }, 2);
    moved('inventory_reservations_total', { outcome: 'confirmed' }, 2);
  });

  it('units held and sold per pool', () => {
    const pool = { product_id: '106', partner_id: '' };
    expect(
      value(after, 'inventory_pool_units', { ...pool, channel: 'direct', state: 'sold' }),
    ).toBeGreaterThanOrEqual(1);
    const acmePool = (channel: string, state: string) =>
      value(after, 'inventory_pool_units', {
        product_id: '106',
        channel,
        state,
        partner_id: acme.partner_id,
      });
    expect(acmePool('ota', 'sold')).toBe(2);
    expect(acmePool('ota', 'held')).toBe(0);
    expect(acmePool('ota', 'available')).toBe(3);
    expect(acmePool('reseller', 'held')).toBe(60);
  });

  it('payments by outcome and tickets issued by channel', () => {
    moved('issuance_payments_total', { outcome: 'confirmed' }, 1);
    moved('issuance_payments_total', { outcome: 'on_account' }, 1);
    // The gateway checks the signature first: a forged notification never reaches issuance.
    moved('gateway_credentials_refused_total', { code: 'invalid_signature' }, 1);
    moved('issuance_payments_total', { outcome: 'invalid_signature' }, 0);
    moved('issuance_tickets_issued_total', { channel: 'ota' }, 3);
    moved('issuance_tickets_issued_total', { channel: 'reseller' }, 60);
    moved('issuance_tickets_issued_total', { channel: 'direct' }, 1);
  });

  it('batch tickets generated and batch duration', () => {
    moved('issuance_batch_tickets_generated_total', {}, 60);
    moved('issuance_batch_duration_seconds_count', {}, 1);
    expect(value(after, 'issuance_batch_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('redemptions by result, and their latency', () => {
    moved('redemption_scans_total', { result: 'ACCEPTED' }, 1);
    moved('redemption_scans_total', { result: 'ALREADY_REDEEMED' }, 1);
    moved('redemption_scan_duration_seconds_count', {}, 2);
  });

  it('OCTO booking requests by operation and outcome', () => {
    moved('octo_booking_requests_total', { operation: 'create', outcome: 'ok' }, 2);
    moved('octo_booking_requests_total', { operation: 'confirm', outcome: 'ok' }, 1);
    moved('octo_booking_requests_total', { operation: 'cancel', outcome: 'ok' }, 1);
    moved('octo_booking_requests_total', { operation: 'confirm', outcome: 'invalid_booking_uuid' }, 1);
  });

  it('webhook deliveries and attempts, and their lag', () => {
    moved('notifications_webhook_deliveries_total', { result: 'succeeded' }, 1);
    moved('notifications_webhook_attempts_total', { outcome: '2xx' }, 1);
    moved('notifications_webhook_delivery_lag_seconds_count', {}, 1);
    expect(received).toBe(1);
  });

  it('NATS command latency, and timeouts counted', () => {
    expect(
      value(after, 'nats_command_duration_seconds_count', { command: 'confirmHold', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(after, 'nats_command_duration_seconds_count', { command: 'holdBatch', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    // The OCTO adapter's commands (hold over NATS, confirm on account).
    expect(
      value(after, 'nats_command_duration_seconds_count', { command: 'holdReservation', outcome: 'ok' }),
    ).toBe(2);
    expect(
      value(after, 'nats_command_duration_seconds_count', { command: 'confirmOnAccount', outcome: 'ok' }),
    ).toBe(1);
    expect(after.families.has('nats_command_timeouts_total')).toBe(true);
  });

  it('queue depth, failed jobs, outbox backlog, age and relay pass sizes, pending releases, rate-limit refusals, readiness', () => {
    for (const queue of ['batch-generation', 'batch-expiry', 'reservation-expiry', 'webhook-delivery']) {
      expect(
        after.samples.some(
          (s) => s.name === 'bullmq_queue_jobs' && s.labels.queue === queue && s.labels.state === 'waiting',
        ),
        queue,
      ).toBe(true);
      expect(
        after.samples.some((s) => s.name === 'bullmq_job_failures_total' && s.labels.queue === queue),
        queue,
      ).toBe(true);
    }
    for (const schema of ['inventory', 'issuance', 'redemption']) {
      expect(
        after.samples.some((s) => s.name === 'outbox_backlog_events' && s.labels.schema === schema),
        schema,
      ).toBe(true);
      expect(
        after.samples.some(
          (s) => s.name === 'outbox_oldest_unpublished_age_seconds' && s.labels.schema === schema,
        ),
      ).toBe(true);
    }
    // The cancellation the webhook delivered was published by inventory's relay, in a pass it measured.
    expect(value(after, 'outbox_relay_pass_events_count', { schema: 'inventory' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'outbox_relay_pass_events_sum', { schema: 'inventory' })).toBeGreaterThanOrEqual(
      value(after, 'outbox_relay_pass_events_count', { schema: 'inventory' }),
    );
    expect(value(after, 'issuance_pending_releases')).toBe(1);
    expect(value(after, 'issuance_pending_release_oldest_age_seconds')).toBeGreaterThan(0);
    moved('gateway_rate_limited_total', { scope: 'partner' }, 1);
    for (const service of SCRAPED) {
      expect(value(after, 'service_readiness_check', { service, check: 'database' }), service).toBe(1);
    }
  });
});

/** Metric names in a PromQL expression: identifiers that are not functions, keywords or label names. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/"[^"]*"/g, '');
  const keywords = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'bool', 'offset']);
  return [...stripped.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !keywords.has(n) && !/^\d/.test(n));
}

describe('ops/: the dashboard and the alert rules name only series the services export', () => {
  let scrape: Scrape;
  beforeAll(async () => {
    scrape = await scrapeAll();
  });

  it('every dashboard panel query parses and names exported metrics', async () => {
    const dashboard = JSON.parse(
      await readFile(path.join(REPO_ROOT, 'ops/grafana/cruise-dashboard.json'), 'utf8'),
    ) as {
      title: string;
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    expect(dashboard.title).toBeTruthy();
    const queries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThan(10);
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNames(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) expect(scrape.families.has(name), `${panel.title}: ${name}`).toBe(true);
      }
    }
  });

  it('every alert rule names exported metrics (promtool checks the syntax in CI)', async () => {
    const rules = await readFile(path.join(REPO_ROOT, 'ops/prometheus/alerts.yml'), 'utf8');
    const exprs = [...rules.matchAll(/expr: (?:\|\n((?: {10}.*\n)+)|(.*)\n)/g)].map((m) =>
      (m[1] ?? m[2])!.trim(),
    );
    expect(exprs.length).toBeGreaterThanOrEqual(5);
    for (const expr of exprs) {
      // `up` is written by Prometheus itself for every scrape target.
      for (const name of metricNames(expr).filter((n) => n !== 'up')) {
        expect(scrape.families.has(name), `${expr}: ${name}`).toBe(true);
      }
    }
  });
});
