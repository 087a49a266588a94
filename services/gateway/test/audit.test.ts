// The audit trail: one row per partner, payment, operator, scanner and QR request, written in batches
// after the response, queryable by operators; a database outage never fails or slows a request.

import { createPool, signPayment } from '@cruise/shared';
import { createTestContext, type TestContext, walkByCursor } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditRecord, createAuditWriter, purgeAuditLog } from '../src/audit/audit-log.ts';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  createPartner,
  type Gateway,
  pollUntil,
  startGateway,
  startUpstream,
} from './harness.ts';

let ctx: TestContext;
let gw: Gateway;
let upstream: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN, AUDIT_FLUSH_MS: '50' });
  upstream = await startUpstream(ctx.config);
  gw = await startGateway({
    ...ctx.config,
    INVENTORY_URL: upstream.url,
    ISSUANCE_URL: upstream.url,
    REDEMPTION_URL: upstream.url,
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.app.close();
  await ctx?.cleanup();
});

interface Entry {
  request_id: string;
  actor_kind: string;
  partner_id: string | null;
  method: string;
  route: string | null;
  path: string;
  status: number;
  duration_ms: number;
  client_ip: string | null;
  at: string;
}

async function auditOf(query: string): Promise<{
  data: Entry[];
  total: number;
  has_more: boolean;
  page: number;
  page_size: number;
  next_cursor: string | null;
}> {
  const res = await gw.app.inject({ method: 'GET', url: `/api/admin/audit?${query}`, headers: ADMIN });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('audit log', () => {
  it('records every audited request with actor, route, status, request id, duration and ip', async () => {
    const p = await createPartner(gw.app, { name: 'Audited OTA' });
    const send = (
      opts: { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string },
      id: string,
    ) =>
      gw.app.inject({
        ...opts,
        headers: { ...opts.headers, 'x-request-id': id },
        remoteAddress: '10.20.30.40',
      });
    await send({ method: 'GET', url: '/api/ota/echo/abc?q=1', headers: bearer(p.api_key) }, 'aud-partner');
    await send({ method: 'GET', url: '/api/ota/echo/abc', headers: bearer('ck_live_wrong') }, 'aud-unauth');
    await send(
      {
        method: 'POST',
        url: '/payments/notify',
        headers: {
          'content-type': 'application/json',
          'x-payment-signature': signPayment(
            ctx.config.PAYMENT_WEBHOOK_SECRET,
            '{}',
            Math.floor(Date.now() / 1000),
          ),
        },
        payload: '{}',
      },
      'aud-webhook',
    );
    await send(
      {
        method: 'POST',
        url: '/venue/redeem',
        headers: { authorization: 'Bearer dk_x', 'content-type': 'application/json' },
        payload: '{}',
      },
      'aud-device',
    );
    await send({ method: 'GET', url: '/qr/TICKET/info' }, 'aud-public');
    await send({ method: 'GET', url: `/api/admin/partners/${p.partner_id}`, headers: ADMIN }, 'aud-admin');
    await send({ method: 'GET', url: '/api/ota/unknown', headers: bearer(p.api_key) }, 'aud-404');
    await send({ method: 'GET', url: '/healthz' }, 'aud-health');

    const expected: Record<string, Partial<Entry>> = {
      'aud-partner': {
        actor_kind: 'partner',
        partner_id: p.partner_id,
        method: 'GET',
        route: '/api/ota/echo/:thing',
        path: '/api/ota/echo/abc',
        status: 200,
      },
      'aud-unauth': { actor_kind: 'anonymous', partner_id: null, status: 401 },
      'aud-webhook': { actor_kind: 'webhook', route: '/payments/notify', status: 200 },
      'aud-device': { actor_kind: 'device', route: '/venue/redeem', status: 200 },
      'aud-public': { actor_kind: 'anonymous', route: '/qr/:ticket_code/info', status: 200 },
      'aud-admin': { actor_kind: 'admin', route: '/api/admin/partners/:partner_id', status: 200 },
      'aud-404': { actor_kind: 'anonymous', route: null, path: '/api/ota/unknown', status: 404 },
    };
    await pollUntil(async () => {
      const { data } = await auditOf('page_size=500');
      return Object.keys(expected).every((id) => data.some((e) => e.request_id === id));
    }, 10_000);
    const { data } = await auditOf('page_size=500');
    for (const [id, fields] of Object.entries(expected)) {
      const rows = data.filter((e) => e.request_id === id);
      expect(rows, id).toHaveLength(1);
      expect(rows[0], id).toMatchObject({ ...fields, client_ip: '10.20.30.40' });
      expect(rows[0]!.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(rows[0]!.at))).toBe(false);
    }
    expect(data.some((e) => e.request_id === 'aud-health')).toBe(false);

    // Filtered by partner: only that partner's requests.
    const mine = await auditOf(`partner_id=${p.partner_id}`);
    expect(mine.data.map((e) => e.request_id)).toEqual(['aud-partner']);
  });

  it('pages newest first and filters by time (from inclusive, to exclusive)', async () => {
    const p = await createPartner(gw.app, { name: 'Paged OTA' });
    for (let i = 0; i < 5; i++) {
      await gw.app.inject({
        method: 'GET',
        url: `/api/ota/echo/${i}`,
        headers: { ...bearer(p.api_key), 'x-request-id': `page-${i}` },
      });
    }
    await pollUntil(async () => (await auditOf(`partner_id=${p.partner_id}`)).total === 5, 10_000);
    const page1 = await auditOf(`partner_id=${p.partner_id}&page=1&page_size=2`);
    const page3 = await auditOf(`partner_id=${p.partner_id}&page=3&page_size=2`);
    expect(page1).toMatchObject({ page: 1, page_size: 2, total: 5, has_more: true });
    expect(page1.data.map((e) => e.request_id)).toEqual(['page-4', 'page-3']);
    expect(page3).toMatchObject({ has_more: false });
    expect(page3.data.map((e) => e.request_id)).toEqual(['page-0']);
    // The same walk by cursor: every entry once, newest first, next_cursor null on the last page.
    const walk = await walkByCursor(`partner_id=${p.partner_id}&page_size=2`, auditOf);
    expect(walk.pages).toBe(3);
    expect(walk.items.map((e) => e.request_id)).toEqual(['page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
    for (const cursor of ['nonsense', `${page1.next_cursor}&page=2`]) {
      const refused = await gw.app.inject({
        method: 'GET',
        url: `/api/admin/audit?cursor=${cursor}`,
        headers: ADMIN,
      });
      expect(refused.statusCode, cursor).toBe(400);
      expect(refused.json().code).toBe('VALIDATION_FAILED');
    }

    const all = (await auditOf(`partner_id=${p.partner_id}`)).data;
    const third = all[2]!;
    const fromThird = await auditOf(`partner_id=${p.partner_id}&from=${encodeURIComponent(third.at)}`);
    expect(fromThird.data.map((e) => e.request_id)).toContain(third.request_id);
    const beforeThird = await auditOf(`partner_id=${p.partner_id}&to=${encodeURIComponent(third.at)}`);
    expect(beforeThird.data.map((e) => e.request_id)).not.toContain(third.request_id);
    const future = await auditOf(`partner_id=${p.partner_id}&from=2999-01-01`);
    expect(future.total).toBe(0);

    const bad = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/audit?from=yesterday',
      headers: ADMIN,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const tooBig = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/audit?page_size=501',
      headers: ADMIN,
    });
    expect(tooBig.statusCode).toBe(400);
  });
});

describe('audit writer', () => {
  const row = (i: number): AuditRecord => ({
    at: new Date(),
    requestId: `writer-${i}`,
    actorKind: 'anonymous',
    partnerId: null,
    method: 'GET',
    route: null,
    path: '/api/ota/x',
    status: 200,
    durationMs: 1.4,
    clientIp: '127.0.0.1',
  });
  const silent = { info() {}, warn() {}, error() {} } as never;

  it('writes in batches of at most 500 rows and flushes everything on close', async () => {
    const pool = createPool(ctx.config);
    const statements: number[] = [];
    const counting = {
      query: (text: string, params: unknown[][]) => {
        statements.push(params[0]!.length);
        return pool.query(text, params);
      },
    } as never;
    const writer = createAuditWriter(counting, silent, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 1_200; i++) writer.record(row(i));
    await writer.close();
    expect(statements.every((n) => n <= 500)).toBe(true);
    expect(statements.reduce((a, b) => a + b, 0)).toBe(1_200);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM gateway.audit_log WHERE request_id LIKE 'writer-%'`,
    );
    expect(rows[0].n).toBe(1_200);
    await pool.end();
  });

  it('deletes rows older than the retention, in slices, and keeps the rest', async () => {
    const pool = createPool(ctx.config);
    const writer = createAuditWriter(pool, silent, { flushIntervalMs: 60_000 });
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
    for (let i = 0; i < 25; i++)
      writer.record({ ...row(i), requestId: `retention-old-${i}`, at: daysAgo(200) });
    for (let i = 0; i < 5; i++)
      writer.record({ ...row(i), requestId: `retention-new-${i}`, at: daysAgo(10) });
    await writer.close();
    // A slice smaller than the backlog proves the loop goes on until nothing old is left.
    expect(await purgeAuditLog(pool, 180, 10)).toBe(25);
    const { rows } = await pool.query<{ id: string }>(
      `SELECT request_id AS id FROM gateway.audit_log WHERE request_id LIKE 'retention-%' ORDER BY request_id`,
    );
    expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 3, 4].map((i) => `retention-new-${i}`));
    await pool.end();
  });

  it('keeps rows while the database is down, bounded, and writes them once it is back', async () => {
    const pool = createPool(ctx.config);
    let down = true;
    const flaky = {
      query: (text: string, params: unknown[]) =>
        down
          ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
          : pool.query(text, params),
    } as never;
    const writer = createAuditWriter(flaky, silent, { flushIntervalMs: 60_000, maxBuffered: 100 });
    for (let i = 0; i < 150; i++) writer.record({ ...row(i), requestId: `outage-${i}` });
    await writer.flush(); // fails quietly
    expect(writer.stats()).toEqual({ buffered: 100, dropped: 50, failing: true });
    down = false;
    await writer.flush();
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 50, failing: false });
    const { rows } = await pool.query(
      `SELECT request_id FROM gateway.audit_log WHERE request_id LIKE 'outage-%' ORDER BY id`,
    );
    // The newest 100 survived, in order.
    expect(rows.map((r: { request_id: string }) => r.request_id)).toEqual(
      Array.from({ length: 100 }, (_, i) => `outage-${i + 50}`),
    );
    await writer.close();
    await pool.end();
  });

  it('drops a batch the database rejects for its content instead of retrying it forever', async () => {
    const pool = createPool(ctx.config);
    const writer = createAuditWriter(pool, silent, { flushIntervalMs: 60_000, batchSize: 2 });
    writer.record({ ...row(1), requestId: 'poison-ok-1' });
    writer.record({ ...row(2), requestId: 'poison-bad', partnerId: 'not-a-uuid' });
    writer.record({ ...row(3), requestId: 'poison-ok-2' });
    await writer.flush();
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 2, failing: false });
    const { rows } = await pool.query(
      `SELECT request_id FROM gateway.audit_log WHERE request_id LIKE 'poison-%' ORDER BY request_id`,
    );
    expect(rows).toEqual([{ request_id: 'poison-ok-2' }]);
    await writer.close();
    await pool.end();
  });

  it('never fails or slows a request when the database is unreachable', async () => {
    const unreachable = await startGateway({
      ...ctx.config,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing',
      INVENTORY_URL: upstream.url,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      // Public routes need no database: they are served and their audit rows wait in memory.
      const res = await unreachable.app.inject({ method: 'GET', url: '/qr/CODE/info' });
      expect(res.statusCode).toBe(200);
      // Authentication needs the database: that is a 503, not a 500 or a hang.
      const partner = await unreachable.app.inject({
        method: 'GET',
        url: '/api/ota/echo/x',
        headers: bearer('ck_live_x'),
      });
      expect(partner.statusCode).toBe(503);
      expect(partner.json().code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await unreachable.close();
    }
  });
});
