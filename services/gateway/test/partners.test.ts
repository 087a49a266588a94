// Operator API: partners, API keys (random, shown once, stored only as SHA-256), idempotent creation,
// suspension and revocation, and the 401/403 paths of partner authentication.
import { sha256Hex } from '@cruise/shared';
import { createTestContext, type TestContext, walkByCursor } from '@cruise/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoPartner } from '../src/index.ts';
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
  ctx = await createTestContext({ ADMIN_TOKEN });
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

const echo = (headers: Record<string, string>) =>
  gw.app.inject({
    method: 'POST',
    url: '/api/ota/echo',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: '{}',
  });

describe('creating partners and keys', () => {
  it('returns a random prefixed key once and stores only its SHA-256', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers: ADMIN,
      payload: { name: 'Shanghai Travel', rate_limit_per_minute: 250 },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ name: 'Shanghai Travel', rate_limit_per_minute: 250, status: 'ACTIVE' });
    expect(body.partner_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.api_key).toMatch(/^ck_live_[A-Za-z0-9_-]{43}$/);

    const other = await createPartner(gw.app, { name: 'Another' });
    expect(other.api_key).not.toBe(body.api_key);
    expect(other.rate_limit_per_minute).toBe(ctx.config.RATE_LIMIT_PER_MINUTE);

    // No table of the gateway's schema holds the plain key; api_keys holds its hash.
    const db = new pg.Client({ connectionString: ctx.config.DATABASE_URL });
    await db.connect();
    try {
      const keys = await db.query('SELECT prefix, key_hash FROM gateway.api_keys WHERE partner_id = $1', [
        body.partner_id,
      ]);
      expect(keys.rows).toEqual([{ prefix: body.api_key.slice(0, 12), key_hash: sha256Hex(body.api_key) }]);
      const dump = await db.query(
        `SELECT string_agg(t::text, ' ') AS all_rows FROM (
           SELECT row_to_json(p)::text AS t FROM gateway.partners p
           UNION ALL SELECT row_to_json(k)::text FROM gateway.api_keys k
           UNION ALL SELECT row_to_json(i)::text FROM gateway.idempotency_keys i
           UNION ALL SELECT row_to_json(a)::text FROM gateway.audit_log a) x`,
      );
      expect(dump.rows[0].all_rows).toContain(sha256Hex(body.api_key));
      expect(dump.rows[0].all_rows).not.toContain(body.api_key);
    } finally {
      await db.end();
    }

    // The key works.
    const ok = await echo(bearer(body.api_key));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().caller).toEqual({ kind: 'partner', partnerId: body.partner_id });
  });

  it('replays a create with the same Idempotency-Key (same key shown) and refuses a different body', async () => {
    const headers = { ...ADMIN, 'idempotency-key': 'create-partner-1' };
    const first = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers,
      payload: { name: 'Idem OTA' },
    });
    const again = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers,
      payload: { name: 'Idem OTA' },
    });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    const list = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/partners?page_size=500',
      headers: ADMIN,
    });
    expect(list.json().data.filter((p: { name: string }) => p.name === 'Idem OTA')).toHaveLength(1);

    const reused = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers,
      payload: { name: 'Other' },
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('creates exactly one partner for concurrent duplicates of one Idempotency-Key', async () => {
    const headers = { ...ADMIN, 'idempotency-key': 'concurrent-create' };
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        gw.app.inject({
          method: 'POST',
          url: '/api/admin/partners',
          headers,
          payload: { name: 'Concurrent OTA' },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.json().partner_id)).size).toBe(1);
    expect(new Set(results.map((r) => r.json().api_key)).size).toBe(1);
    const list = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/partners?page_size=500',
      headers: ADMIN,
    });
    expect(list.json().data.filter((p: { name: string }) => p.name === 'Concurrent OTA')).toHaveLength(1);
  });

  it('walks the partner list by cursor: the same partners, in the same order, as one page', async () => {
    const get = async (query: string) => {
      const res = await gw.app.inject({ method: 'GET', url: `/api/admin/partners?${query}`, headers: ADMIN });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { data: { partner_id: string }[]; has_more: boolean; next_cursor: string | null };
    };
    const all = (await get('page_size=500')).data.map((p) => p.partner_id);
    expect(all.length).toBeGreaterThan(2);
    const walk = await walkByCursor('page_size=2', get);
    expect(walk.items.map((p) => p.partner_id)).toEqual(all);
    expect(walk.pages).toBe(Math.ceil(all.length / 2));
  });

  it('issues further keys, lists them by prefix, and revokes them (204, repeatable, 404 for strangers)', async () => {
    const p = await createPartner(gw.app, { name: 'Keys OTA' });
    const issued = await gw.app.inject({
      method: 'POST',
      url: `/api/admin/partners/${p.partner_id}/api-keys`,
      headers: ADMIN,
    });
    expect(issued.statusCode).toBe(201);
    const key = issued.json();
    expect(key.api_key).toMatch(/^ck_live_/);
    expect((await echo(bearer(key.api_key))).statusCode).toBe(200);

    const shown = await gw.app.inject({
      method: 'GET',
      url: `/api/admin/partners/${p.partner_id}`,
      headers: ADMIN,
    });
    expect(shown.statusCode).toBe(200);
    expect(shown.json().api_keys).toHaveLength(2);
    expect(JSON.stringify(shown.json())).not.toContain(key.api_key);

    const other = await createPartner(gw.app, { name: 'Stranger OTA' });
    const foreign = await gw.app.inject({
      method: 'DELETE',
      url: `/api/admin/partners/${other.partner_id}/api-keys/${key.key_id}`,
      headers: ADMIN,
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('NOT_FOUND');

    const url = `/api/admin/partners/${p.partner_id}/api-keys/${key.key_id}`;
    expect((await gw.app.inject({ method: 'DELETE', url, headers: ADMIN })).statusCode).toBe(204);
    expect((await gw.app.inject({ method: 'DELETE', url, headers: ADMIN })).statusCode).toBe(204);
    // The partner's first key is unaffected.
    expect((await echo(bearer(p.api_key))).statusCode).toBe(200);

    const unknownPartner = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners/00000000-0000-4000-8000-000000000000/api-keys',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      payload: '',
    });
    expect(unknownPartner.statusCode).toBe(404);
  });

  it('stops a revoked key within 1 second', async () => {
    const p = await createPartner(gw.app, { name: 'Revoked OTA' });
    expect((await echo(bearer(p.api_key))).statusCode).toBe(200); // now in the auth cache
    const shown = await gw.app.inject({
      method: 'GET',
      url: `/api/admin/partners/${p.partner_id}`,
      headers: ADMIN,
    });
    const keyId = shown.json().api_keys[0].key_id;
    const revoked = await gw.app.inject({
      method: 'DELETE',
      url: `/api/admin/partners/${p.partner_id}/api-keys/${keyId}`,
      headers: ADMIN,
    });
    expect(revoked.statusCode).toBe(204);
    const took = await pollUntil(async () => (await echo(bearer(p.api_key))).statusCode === 401, 1_000);
    expect(took).toBeLessThanOrEqual(1_000);
    const res = await echo(bearer(p.api_key));
    expect(res.json().code).toBe('UNAUTHORIZED');
  });

  it('suspends and reactivates a partner (403 PARTNER_SUSPENDED), and changes its limit', async () => {
    const p = await createPartner(gw.app, { name: 'Suspended OTA' });
    const url = `/api/admin/partners/${p.partner_id}`;
    const suspended = await gw.app.inject({
      method: 'PATCH',
      url,
      headers: ADMIN,
      payload: { status: 'SUSPENDED' },
    });
    expect(suspended.statusCode).toBe(200);
    expect(suspended.json()).toMatchObject({ status: 'SUSPENDED', rate_limit_per_minute: 100 });
    await pollUntil(async () => (await echo(bearer(p.api_key))).statusCode === 403, 1_000);
    const res = await echo(bearer(p.api_key));
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 403, code: 'PARTNER_SUSPENDED' });

    const limited = await gw.app.inject({
      method: 'PATCH',
      url,
      headers: ADMIN,
      payload: { status: 'ACTIVE', rate_limit_per_minute: 7 },
    });
    expect(limited.json()).toMatchObject({ status: 'ACTIVE', rate_limit_per_minute: 7 });
    await pollUntil(async () => (await echo(bearer(p.api_key))).headers['ratelimit-limit'] === '7', 1_000);
    const reset = await gw.app.inject({
      method: 'PATCH',
      url,
      headers: ADMIN,
      payload: { rate_limit_per_minute: null },
    });
    expect(reset.json().rate_limit_per_minute).toBe(100);

    const empty = await gw.app.inject({ method: 'PATCH', url, headers: ADMIN, payload: {} });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('VALIDATION_FAILED');
    const bad = await gw.app.inject({ method: 'PATCH', url, headers: ADMIN, payload: { status: 'DELETED' } });
    expect(bad.statusCode).toBe(400);
    const missing = await gw.app.inject({
      method: 'PATCH',
      url: '/api/admin/partners/00000000-0000-4000-8000-000000000000',
      headers: ADMIN,
      payload: { status: 'ACTIVE' },
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('partner authentication', () => {
  it('accepts the key as a Bearer token or X-API-Key', async () => {
    const p = await createPartner(gw.app, { name: 'Header OTA' });
    expect((await echo(bearer(p.api_key))).statusCode).toBe(200);
    expect((await echo({ 'x-api-key': p.api_key })).statusCode).toBe(200);
    expect((await echo({ authorization: `bearer ${p.api_key}` })).statusCode).toBe(200);
  });

  it.each([
    ['no credentials', {}],
    ['an unknown key', bearer('ck_live_unknownunknownunknownunknownunknownunknow')],
    ['an unknown X-API-Key', { 'x-api-key': 'nope' }],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['the operator token on a partner route', ADMIN],
  ])('answers 401 problem+json for %s', async (_name, headers) => {
    const res = await echo(headers as Record<string, string>);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      request_id: res.headers['x-request-id'],
    });
  });

  it('refuses operator routes without the operator token (401) and with a partner key (401)', async () => {
    const p = await createPartner(gw.app, { name: 'Not An Operator' });
    for (const headers of [{}, bearer(p.api_key), { authorization: 'Bearer wrong-admin-token-0123456789' }]) {
      const res = await gw.app.inject({ method: 'GET', url: '/api/admin/partners', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('UNAUTHORIZED');
      const create = await gw.app.inject({
        method: 'POST',
        url: '/api/admin/partners',
        headers,
        payload: { name: 'x' },
      });
      expect(create.statusCode).toBe(401);
    }
  });

  it('validates operator input (400 with field errors; malformed JSON is 400)', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers: ADMIN,
      payload: { name: '' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(res.json().errors[0].path).toBe('name');
    const tooFast = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers: ADMIN,
      payload: { name: 'x', rate_limit_per_minute: 100_001 },
    });
    expect(tooFast.statusCode).toBe(400);
    expect(tooFast.json().errors[0].path).toBe('rate_limit_per_minute');
    const malformed = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/partners',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toContain('application/problem+json');
    expect(malformed.json().code).toBe('VALIDATION_FAILED');
    const badId = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/partners/not-a-uuid',
      headers: ADMIN,
    });
    expect(badId.statusCode).toBe(400);
  });
});

describe('seedDemoPartner', () => {
  it('creates "Demo OTA" once, returning its key only the first time, even when started concurrently', async () => {
    const results = await Promise.all([seedDemoPartner(gw.deps.pool), seedDemoPartner(gw.deps.pool)]);
    const created = results.filter((r) => r.api_key !== null);
    expect(created).toHaveLength(1);
    expect(results[0]!.partner_id).toBe(results[1]!.partner_id);
    const later = await seedDemoPartner(gw.deps.pool);
    expect(later).toEqual({ partner_id: results[0]!.partner_id, api_key: null });
    expect((await echo(bearer(created[0]!.api_key!))).statusCode).toBe(200);
  });
});
