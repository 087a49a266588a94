// Forwarding to the owning services: raw bytes in, streamed bytes out, trusted internal headers
// set by the gateway only, per-route authentication, and 503 (never a hang) when a service is down.
import { createHash, createHmac } from 'node:crypto';
import { createTestContext, freePort, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  CSV_ROWS,
  createPartner,
  type Gateway,
  pollUntil,
  startGateway,
  startUpstream,
} from './harness.ts';

let ctx: TestContext;
let gw: Gateway;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let partner: Awaited<ReturnType<typeof createPartner>>;

beforeAll(async () => {
  ctx = await createTestContext({
    ADMIN_TOKEN,
    BODY_LIMIT_BYTES: '65536',
    PUBLIC_RATE_LIMIT_PER_MINUTE: '1000',
  });
  upstream = await startUpstream(ctx.config);
  gw = await startGateway({
    ...ctx.config,
    INVENTORY_URL: upstream.url,
    ISSUANCE_URL: upstream.url,
    REDEMPTION_URL: upstream.url,
  });
  partner = await createPartner(gw.app, { name: 'Forwarding OTA', rate_limit_per_minute: 10_000 });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.app.close();
  await ctx?.cleanup();
});

describe('forwarding', () => {
  it('forwards the exact body bytes with the trusted identity and strips spoofed identity headers', async () => {
    // Odd spacing and key order: a parse/re-serialise would change the bytes.
    const payload = '{ "b":1,   "a" : "ünïcödé",\n "n": 1.50 }';
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/ota/echo?x=1&y=%20z',
      headers: {
        ...bearer(partner.api_key),
        'content-type': 'application/json',
        'x-request-id': 'req-forward-1',
        'x-internal-token': 'forged-internal-token-123456',
        'x-caller-kind': 'admin',
        'x-partner-id': '00000000-0000-4000-8000-000000000000',
        'x-device-id': 'forged',
        connection: 'keep-alive, x-hop',
        'x-hop': 'should not pass',
        'x-custom': 'kept',
      },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-forward-1');
    const seen = res.json();
    expect(seen.url).toBe('/api/ota/echo?x=1&y=%20z');
    expect(seen.caller).toEqual({ kind: 'partner', partnerId: partner.partner_id });
    expect(seen.body_sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(seen.headers['x-request-id']).toBe('req-forward-1');
    // The secret never travels: only a signature over this request (the upstream verified it above).
    expect(seen.headers['x-internal-token']).toBeUndefined();
    expect(seen.headers['x-internal-signature']).toMatch(/^[\w-]{43}$/);
    expect(JSON.stringify(seen.headers)).not.toContain(ctx.config.INTERNAL_TOKEN);
    expect(seen.headers['x-partner-id']).toBe(partner.partner_id);
    expect(seen.headers['x-caller-kind']).toBe('partner');
    expect(seen.headers['x-device-id']).toBeUndefined();
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers['x-custom']).toBe('kept');
    // The partner's key stays at the edge.
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBeDefined();
  });

  it('passes the payment webhook through untouched so its signature still verifies', async () => {
    const body = `{"payment_id":"pay_1",  "amount":{"amount":85400,"currency":"USD"}}`;
    const t = Math.floor(Date.now() / 1000);
    const signature = `t=${t},v1=${createHmac('sha256', ctx.config.PAYMENT_WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`;
    const res = await gw.app.inject({
      method: 'POST',
      url: '/payments/notify',
      headers: { 'content-type': 'application/json', 'x-payment-signature': signature },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const seen = res.json();
    expect(seen.headers['x-payment-signature']).toBe(signature);
    expect(seen.body_sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen.caller).toEqual({ kind: 'anonymous' });
  });

  it('passes device keys through to the redemption service and forwards admin identity', async () => {
    const scan = await gw.app.inject({
      method: 'POST',
      url: '/venue/redeem',
      headers: { authorization: 'Bearer dk_device-key', 'content-type': 'application/json' },
      payload: { ticket_code: 'X', function_code: 'FERRY' },
    });
    expect(scan.statusCode).toBe(200);
    expect(scan.json().headers.authorization).toBe('Bearer dk_device-key');
    expect(scan.json().caller).toEqual({ kind: 'anonymous' });

    const qrAsAdmin = await gw.app.inject({ method: 'POST', url: '/qr/ABC', headers: ADMIN });
    expect(qrAsAdmin.statusCode).toBe(200);
    expect(qrAsAdmin.json().caller).toEqual({ kind: 'admin' });
    const qrAsPartner = await gw.app.inject({
      method: 'POST',
      url: '/qr/ABC',
      headers: bearer(partner.api_key),
    });
    expect(qrAsPartner.json().caller).toEqual({ kind: 'partner', partnerId: partner.partner_id });
    expect(qrAsPartner.headers['ratelimit-limit']).toBe('10000');
    const qrAnonymous = await gw.app.inject({ method: 'POST', url: '/qr/ABC' });
    expect(qrAnonymous.statusCode).toBe(401);

    const info = await gw.app.inject({ method: 'GET', url: '/qr/ABC/info' });
    expect(info.statusCode).toBe(200);
    expect(info.json().caller).toEqual({ kind: 'anonymous' });
  });

  it('passes upstream status, content type and headers back, including errors and 204', async () => {
    const teapot = await gw.app.inject({
      method: 'GET',
      url: '/api/ota/echo/teapot',
      headers: bearer(partner.api_key),
    });
    expect(teapot.statusCode).toBe(418);
    expect(teapot.headers['content-type']).toContain('application/problem+json');
    expect(teapot.json()).toEqual({ code: 'TEAPOT' });
    expect(teapot.headers['x-upstream']).toBe('yes');
    expect(teapot.headers['cache-control']).toBe('no-store');
    expect(teapot.headers['ratelimit-remaining']).toBeDefined();

    const deleted = await gw.app.inject({
      method: 'DELETE',
      url: '/api/ota/things/1',
      headers: bearer(partner.api_key),
    });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
  });

  it('streams a large CSV over a real connection', async () => {
    const url = await gw.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/api/ota/export.csv`, { headers: bearer(partner.api_key) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toContain('t.csv');
    const text = await res.text();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(CSV_ROWS);
    expect(lines.at(-1)).toBe(`CODE${String(CSV_ROWS - 1).padStart(8, '0')}`);
  });

  it('cancels the upstream call and audits 499 when the client gives up', async () => {
    const url = gw.app.server.listening
      ? `http://127.0.0.1:${(gw.app.server.address() as { port: number }).port}`
      : await gw.app.listen({ port: 0, host: '127.0.0.1' });
    const before = upstream.hits();
    const abort = new AbortController();
    const pending = fetch(`${url}/api/ota/silent`, {
      headers: { ...bearer(partner.api_key), 'x-request-id': 'client-gave-up' },
      signal: abort.signal,
    }).catch((err: Error) => err);
    await pollUntil(async () => upstream.hits() > before, 5_000);
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    // The gateway hung up on the upstream too, rather than leaving the call running.
    await pollUntil(async () => upstream.abandoned() === 1, 5_000);
    await pollUntil(async () => {
      const res = await gw.app.inject({
        method: 'GET',
        url: '/api/admin/audit?page_size=500',
        headers: ADMIN,
      });
      return res
        .json()
        .data.some(
          (e: { request_id: string; status: number }) =>
            e.request_id === 'client-gave-up' && e.status === 499,
        );
    }, 5_000);
  });

  it('answers 404 for an operator route about a partner that does not exist, before forwarding', async () => {
    const before = upstream.hits();
    const res = await gw.app.inject({
      method: 'PUT',
      url: '/api/admin/partners/00000000-0000-4000-8000-000000000000/allocations',
      headers: ADMIN,
      payload: { product_id: 106, channel: 'ota', allocated: 10 },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
    expect(upstream.hits()).toBe(before);
    const ok = await gw.app.inject({
      method: 'PUT',
      url: `/api/admin/partners/${partner.partner_id}/allocations`,
      headers: ADMIN,
      payload: { product_id: 106, channel: 'ota', allocated: 10 },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().caller).toEqual({ kind: 'admin' });
    expect(ok.json().headers.authorization).toBeUndefined();
  });
});

describe('errors at the edge are problem+json', () => {
  it('413 PAYLOAD_TOO_LARGE for a body over the limit (forwarded and own routes)', async () => {
    for (const [url, headers] of [
      ['/api/ota/echo', bearer(partner.api_key)],
      ['/api/admin/partners', ADMIN],
    ] as const) {
      const res = await gw.app.inject({
        method: 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(70_000) }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('404 NOT_FOUND for an unknown route', async () => {
    const res = await gw.app.inject({
      method: 'GET',
      url: '/api/ota/nothing-here',
      headers: bearer(partner.api_key),
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND', request_id: res.headers['x-request-id'] });
  });

  it('503 SERVICE_UNAVAILABLE when the owning service refuses connections', async () => {
    const closed = await freePort();
    const down = await startGateway({
      ...ctx.config,
      INVENTORY_URL: `http://127.0.0.1:${closed}`,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      const res = await down.app.inject({
        method: 'POST',
        url: '/api/ota/echo',
        headers: { ...bearer(partner.api_key), 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      const metrics = (await down.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^gateway_upstream_failures_total\{[^}]*service="inventory"[^}]*\} 1$/m);
      // Another service on the same gateway is unaffected.
      const other = await down.app.inject({
        method: 'GET',
        url: '/api/ota/echo/x',
        headers: bearer(partner.api_key),
      });
      expect(other.statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });

  it('503 SERVICE_UNAVAILABLE when the owning service does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    const slow = await startGateway({
      ...ctx.config,
      UPSTREAM_TIMEOUT_MS: 300,
      INVENTORY_URL: upstream.url,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      const res = await slow.app.inject({
        method: 'GET',
        url: '/api/ota/silent',
        headers: bearer(partner.api_key),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
      // Headers came, the body stopped: still a 503 rather than a hang or a truncated 200.
      const stalled = await slow.app.inject({
        method: 'GET',
        url: '/api/ota/stall',
        headers: bearer(partner.api_key),
      });
      expect(stalled.statusCode).toBe(503);
      expect(stalled.json().code).toBe('SERVICE_UNAVAILABLE');
      expect(stalled.headers['content-type']).toContain('application/problem+json');
    } finally {
      await slow.close();
    }
  });
});
