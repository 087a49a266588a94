// API-key lookups are cached in memory on every gateway instance; a revocation is pushed to all of them
// over Redis pub/sub, so a revoked key is refused within a second on an instance that did not revoke it.
// The control shows the cache really holds entries (a change behind the gateways' back is not seen until
// it is announced), and without Redis entries fall back to half a second, keeping the promise.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceKeyChange } from '../src/auth/credentials.ts';
import {
  ADMIN,
  ADMIN_TOKEN,
  bearer,
  createPartner,
  type Gateway,
  pollUntil,
  redisProxy,
  startGateway,
  startUpstream,
} from './harness.ts';

let ctx: TestContext;
let a: Gateway;
let b: Gateway;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let proxy: Awaited<ReturnType<typeof redisProxy>>;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN });
  upstream = await startUpstream(ctx.config);
  const config = {
    ...ctx.config,
    INVENTORY_URL: upstream.url,
    ISSUANCE_URL: upstream.url,
    REDEMPTION_URL: upstream.url,
  };
  // Two instances on one database and one Redis; B reaches Redis through a proxy the test can cut.
  proxy = await redisProxy(ctx.config.REDIS_URL);
  a = await startGateway(config);
  b = await startGateway({ ...config, REDIS_URL: proxy.url });
  await pollUntil(async () => a.app.keyCache.live() && b.app.keyCache.live(), 10_000);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await upstream?.app.close();
  await ctx?.cleanup();
});

const echo = (gw: Gateway, key: string) =>
  gw.app.inject({ method: 'POST', url: '/api/ota/echo', headers: bearer(key), payload: { hi: 1 } });

async function firstKeyId(partnerId: string): Promise<string> {
  const shown = await a.app.inject({
    method: 'GET',
    url: `/api/admin/partners/${partnerId}`,
    headers: ADMIN,
  });
  return shown.json().api_keys[0].key_id;
}

describe('a revoked key, two gateway instances', () => {
  it('revoked through instance A, it is refused by instance B within a second', async () => {
    const p = await createPartner(a.app, { name: 'Revoked across instances' });
    expect((await echo(b, p.api_key)).statusCode).toBe(200); // now in B's cache
    expect((await echo(a, p.api_key)).statusCode).toBe(200); // and in A's
    const revoked = await a.app.inject({
      method: 'DELETE',
      url: `/api/admin/partners/${p.partner_id}/api-keys/${await firstKeyId(p.partner_id)}`,
      headers: ADMIN,
    });
    expect(revoked.statusCode).toBe(204);
    // The instance that revoked forgets the key at once.
    expect((await echo(a, p.api_key)).statusCode).toBe(401);
    const took = await pollUntil(async () => (await echo(b, p.api_key)).statusCode === 401, 1_000, 5);
    expect(took).toBeLessThanOrEqual(1_000);
    expect((await echo(b, p.api_key)).json().code).toBe('UNAUTHORIZED');
  });

  it('control: a revocation written behind the gateways, never announced, is not seen; announced, it is', async () => {
    const p = await createPartner(a.app, { name: 'Revoked in the database only' });
    expect((await echo(b, p.api_key)).statusCode).toBe(200);
    await a.deps.pool.query('UPDATE gateway.api_keys SET revoked_at = now() WHERE partner_id = $1', [
      p.partner_id,
    ]);
    // Longer than the half-second entries of the old cache: B still answers from its cache, with no
    // database lookup, because nothing told it.
    await new Promise((r) => setTimeout(r, 700));
    expect(b.app.keyCache.live()).toBe(true);
    expect((await echo(b, p.api_key)).statusCode).toBe(200);
    await announceKeyChange(a.deps.redis, ctx.config.REDIS_PREFIX, p.partner_id);
    await pollUntil(async () => (await echo(b, p.api_key)).statusCode === 401, 1_000, 5);
  });

  it('while B cannot hear Redis, its entries live half a second, so the promise holds; it listens again after', async () => {
    const p = await createPartner(a.app, { name: 'Revoked while Redis is cut' });
    await proxy.cut();
    await pollUntil(async () => !b.app.keyCache.live(), 5_000);
    expect((await echo(b, p.api_key)).statusCode).toBe(200);
    // Revoked through A; the announcement cannot reach B.
    const revoked = await a.app.inject({
      method: 'DELETE',
      url: `/api/admin/partners/${p.partner_id}/api-keys/${await firstKeyId(p.partner_id)}`,
      headers: ADMIN,
    });
    expect(revoked.statusCode).toBe(204);
    const took = await pollUntil(async () => (await echo(b, p.api_key)).statusCode === 401, 1_000, 5);
    expect(took).toBeLessThanOrEqual(1_000);
    await proxy.restore();
    await pollUntil(async () => b.app.keyCache.live(), 10_000);
    const other = await createPartner(a.app, { name: 'After the outage' });
    expect((await echo(b, other.api_key)).statusCode).toBe(200);
  });
});
