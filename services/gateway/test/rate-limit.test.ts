// Rolling-minute limits: per partner (shared by every gateway instance through Redis), per client IP
// for unauthenticated traffic, and still enforced in memory when Redis is unreachable.
import { createRedis } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, InMemorySlidingLog, WINDOW_MS } from '../src/rate-limit/rate-limiter.ts';
import {
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
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let first: Gateway;
let second: Gateway;

const PUBLIC_LIMIT = 20;

beforeAll(async () => {
  ctx = await createTestContext({ ADMIN_TOKEN, PUBLIC_RATE_LIMIT_PER_MINUTE: String(PUBLIC_LIMIT) });
  upstream = await startUpstream(ctx.config);
  const config = {
    ...ctx.config,
    INVENTORY_URL: upstream.url,
    ISSUANCE_URL: upstream.url,
    REDEMPTION_URL: upstream.url,
  };
  // Two instances of the gateway sharing one Redis and one database, as behind a load balancer.
  [first, second] = await Promise.all([startGateway(config), startGateway(config)]);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await upstream?.app.close();
  await ctx?.cleanup();
});

const call = (gw: Gateway, key: string) =>
  gw.app.inject({ method: 'GET', url: '/api/ota/echo/x', headers: bearer(key) });

describe('per-partner limit', () => {
  it('allows 100 requests a minute, answers the 101st with 429, and leaves other partners alone', async () => {
    const a = await createPartner(first.app, { name: 'Busy OTA' });
    const b = await createPartner(first.app, { name: 'Quiet OTA' });
    for (let i = 1; i <= 100; i++) {
      const res = await call(first, a.api_key);
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('100');
      expect(res.headers['ratelimit-remaining']).toBe(String(100 - i));
      const reset = Number(res.headers['ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
    }
    const over = await call(first, a.api_key);
    expect(over.statusCode).toBe(429);
    expect(over.headers['content-type']).toContain('application/problem+json');
    expect(over.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(over.headers['ratelimit-remaining']).toBe('0');
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The refused request was not forwarded and did not extend the window.
    expect((await call(second, a.api_key)).statusCode).toBe(429);

    const other = await call(first, b.api_key);
    expect(other.statusCode).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe('99');
  });

  it('shares one count across gateway instances', async () => {
    const p = await createPartner(first.app, { name: 'Spread OTA', rate_limit_per_minute: 10 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await call(i % 2 === 0 ? first : second, p.api_key)).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('control: a naive count-then-add limiter over-admits the same concurrent burst', async () => {
    // The race the Lua script closes: every caller reads the count before any of them adds to it.
    const redis = first.deps.redis;
    const key = `${ctx.config.REDIS_PREFIX}:rl:control`;
    const admitted = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const count = await redis.zcard(key);
        if (count >= 25) return false;
        await redis.zadd(key, Date.now(), `m${i}`);
        return true;
      }),
    );
    expect(admitted.filter(Boolean).length).toBeGreaterThan(25);
  });

  it('holds under concurrency: exactly the limit is admitted across both instances', async () => {
    const p = await createPartner(first.app, { name: 'Burst OTA', rate_limit_per_minute: 25 });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(i % 2 === 0 ? first : second, p.api_key)),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(25);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(35);
  });
});

describe('per-IP limit', () => {
  it('limits unauthenticated calls, failed keys and public routes per client IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < PUBLIC_LIMIT + 2; i++) {
      const res =
        i % 2 === 0
          ? await second.app.inject({ method: 'GET', url: '/qr/CODE/info', remoteAddress: '10.9.8.7' })
          : await second.app.inject({
              method: 'GET',
              url: '/api/ota/echo/x',
              headers: bearer('ck_live_nope'),
              remoteAddress: '10.9.8.7',
            });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, PUBLIC_LIMIT).every((s) => s === 200 || s === 401)).toBe(true);
    expect(statuses.slice(PUBLIC_LIMIT)).toEqual([429, 429]);
    // Another client is unaffected; so is a valid partner from the same address.
    const elsewhere = await first.app.inject({
      method: 'GET',
      url: '/qr/CODE/info',
      remoteAddress: '10.9.8.8',
    });
    expect(elsewhere.statusCode).toBe(200);
    const p = await createPartner(first.app, { name: 'Same IP OTA' });
    const partnerCall = await second.app.inject({
      method: 'GET',
      url: '/api/ota/echo/x',
      headers: bearer(p.api_key),
      remoteAddress: '10.9.8.7',
    });
    expect(partnerCall.statusCode).toBe(200);
  });
});

describe('credentials checked by the owning service', () => {
  it('charges refused device keys and webhook signatures to the IP, never successful ones', async () => {
    const scan = (authorization: string, ip: string) =>
      first.app.inject({
        method: 'POST',
        url: '/venue/redeem',
        headers: { authorization, 'content-type': 'application/json' },
        payload: '{}',
        remoteAddress: ip,
      });
    // Accepted scans (the stand-in answers 200) are not limited, however many.
    for (let i = 0; i < PUBLIC_LIMIT + 5; i++)
      expect((await scan('Bearer dk_good', '10.7.7.7')).statusCode).toBe(200);

    // Refusals by the owning service (a service that refuses every credential) are counted.
    const { createServer } = await import('node:http');
    const refusing = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' }).end('{"code":"UNAUTHORIZED"}');
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
    const refusingUrl = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
    const gw = await startGateway({
      ...ctx.config,
      INVENTORY_URL: refusingUrl,
      ISSUANCE_URL: refusingUrl,
      REDEMPTION_URL: refusingUrl,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < PUBLIC_LIMIT + 2; i++) {
        const res =
          i % 2 === 0
            ? await gw.app.inject({
                method: 'POST',
                url: '/venue/redeem',
                headers: bearer('dk_guess'),
                payload: '{}',
                remoteAddress: '10.7.7.8',
              })
            : await gw.app.inject({
                method: 'POST',
                url: '/payments/notify',
                headers: { 'content-type': 'application/json', 'x-payment-signature': 't=1,v1=00' },
                payload: '{}',
                remoteAddress: '10.7.7.8',
              });
        statuses.push(res.statusCode);
      }
      expect(statuses.slice(0, PUBLIC_LIMIT)).toEqual(Array(PUBLIC_LIMIT).fill(401));
      expect(statuses.slice(PUBLIC_LIMIT)).toEqual([429, 429]);
    } finally {
      await gw.close();
      refusing.closeAllConnections();
      await new Promise((r) => refusing.close(r));
    }
  });
});

describe('Redis unreachable', () => {
  it('keeps limiting in memory, never 500s, and reports the fallback on /readyz', async () => {
    const degraded = await startGateway({
      ...ctx.config,
      REDIS_URL: 'redis://127.0.0.1:1',
      INVENTORY_URL: upstream.url,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      const p = await createPartner(first.app, { name: 'Fallback OTA', rate_limit_per_minute: 5 });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await call(degraded, p.api_key);
        statuses.push(res.statusCode);
        expect(res.headers['ratelimit-limit']).toBe('5');
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);

      const publicStatuses: number[] = [];
      for (let i = 0; i < PUBLIC_LIMIT + 1; i++) {
        publicStatuses.push(
          (await degraded.app.inject({ method: 'GET', url: '/qr/C/info', remoteAddress: '10.1.1.1' }))
            .statusCode,
        );
      }
      expect(publicStatuses.slice(0, PUBLIC_LIMIT).every((s) => s === 200)).toBe(true);
      expect(publicStatuses.at(-1)).toBe(429);

      const ready = await degraded.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.rate_limit).toMatchObject({ status: 'down' });
      expect(ready.json().checks.rate_limit.error).toMatch(/fallback/);
      expect(ready.json().checks.redis.status).toBe('down');
      expect(ready.json().checks.database.status).toBe('ok');
      const metrics = (await degraded.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^gateway_rate_limiter_fallback\{[^}]*\} 1$/m);
      expect(metrics).toMatch(/^gateway_rate_limited_total\{[^}]*scope="partner"[^}]*\} 2$/m);
      expect(metrics).toMatch(/^gateway_rate_limited_total\{[^}]*scope="ip"[^}]*\} 1$/m);
    } finally {
      await degraded.close();
    }
  });

  it('the healthy instances report the shared limiter as ready', async () => {
    const ready = await first.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toMatchObject({
      database: { status: 'ok' },
      redis: { status: 'ok' },
      nats: { status: 'ok' },
      rate_limit: { status: 'ok' },
    });
  });
});

describe('in-memory sliding log', () => {
  it('frees quota as requests leave the rolling window, not at a fixed boundary', () => {
    const log = new InMemorySlidingLog();
    const t0 = 1_000_000;
    expect(log.consume('k', 2, t0).allowed).toBe(true);
    expect(log.consume('k', 2, t0 + 30_000).allowed).toBe(true);
    const refused = log.consume('k', 2, t0 + 59_000);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 1 });
    expect(log.consume('k', 2, t0 + WINDOW_MS + 1).allowed).toBe(true); // the first left the window
    expect(log.consume('k', 2, t0 + WINDOW_MS + 2).allowed).toBe(false); // the second is still in it
  });
});

describe('Redis lost and regained while serving', () => {
  it('switches to the in-memory limiter and back without a failed request', async () => {
    const proxy = await redisProxy(ctx.config.REDIS_URL);
    const gw = await startGateway({
      ...ctx.config,
      REDIS_URL: proxy.url,
      INVENTORY_URL: upstream.url,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      const p = await createPartner(gw.app, { name: 'Flaky Redis OTA', rate_limit_per_minute: 1000 });
      const limiterState = async () =>
        (await gw.app.inject({ method: 'GET', url: '/readyz' })).json().checks.rate_limit.status;
      expect(await limiterState()).toBe('ok');
      expect((await call(gw, p.api_key)).statusCode).toBe(200);

      await proxy.cut();
      // Requests keep being served (limited in memory) while Redis is away.
      for (let i = 0; i < 5; i++) expect((await call(gw, p.api_key)).statusCode).toBe(200);
      expect(await limiterState()).toBe('down');

      await proxy.restore();
      await pollUntil(
        async () => (await call(gw, p.api_key)).statusCode === 200 && (await limiterState()) === 'ok',
        15_000,
        200,
      );
    } finally {
      await gw.close();
      await proxy.cut();
    }
  });

  it('logs one warning when it falls back and one notice when Redis returns', async () => {
    const proxy = await redisProxy(ctx.config.REDIS_URL);
    const redis = createRedis({ REDIS_URL: proxy.url });
    await new Promise((r) => redis.once('ready', r));
    const logged: string[] = [];
    // pino-style: the message is the last argument.
    const log = {
      warn: (...args: unknown[]) => logged.push(`warn ${String(args.at(-1))}`),
      info: (...args: unknown[]) => logged.push(`info ${String(args.at(-1))}`),
    };
    const limiter = createRateLimiter(redis, log as never);
    try {
      const key = `${ctx.config.REDIS_PREFIX}:rl:logging`;
      expect((await limiter.consume(key, 3)).allowed).toBe(true);
      await proxy.cut();
      const during = [];
      for (let i = 0; i < 5; i++) during.push(await limiter.consume(key, 3));
      expect(limiter.mode()).toBe('fallback');
      // The in-memory log starts empty: three more are admitted, then the limit holds.
      expect(during.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      await proxy.restore();
      await pollUntil(async () => limiter.mode() === 'redis', 15_000, 100);
      expect(logged.filter((l) => l.startsWith('warn'))).toHaveLength(1);
      expect(logged.filter((l) => l.startsWith('info'))).toHaveLength(1);
      expect(logged[0]).toMatch(/Redis unreachable/);
      expect(logged[1]).toMatch(/Redis reachable again/);
    } finally {
      limiter.close();
      redis.disconnect();
      await proxy.cut();
    }
  });
});
