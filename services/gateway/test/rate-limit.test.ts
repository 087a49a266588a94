// Rolling-minute limits: per partner (shared by every gateway instance through Redis), per client IP
// for anonymous traffic and, separately, for refused credentials (charged before any work, so a
// concurrent burst cannot pass), never for a validly signed webhook; the client IP from
// X-Forwarded-For only behind TRUSTED_PROXIES; still enforced in memory when Redis is unreachable.
import {
  budgetKey,
  createRateLimiter,
  createRedis,
  InMemorySlidingLog,
  signPayment,
  WINDOW_MS,
} from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const FAILED_LIMIT = 10;

beforeAll(async () => {
  ctx = await createTestContext({
    ADMIN_TOKEN,
    PUBLIC_RATE_LIMIT_PER_MINUTE: String(PUBLIC_LIMIT),
    FAILED_AUTH_RATE_LIMIT_PER_MINUTE: String(FAILED_LIMIT),
  });
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

describe('large budgets charged in blocks', () => {
  it('a busy partner: exact RateLimit-Remaining on one instance, unspent units handed back', async () => {
    const p = await createPartner(first.app, { name: 'Big OTA', rate_limit_per_minute: 100_000 });
    for (let i = 1; i <= 50; i++) {
      const res = await call(first, p.api_key);
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-remaining']).toBe(String(100_000 - i));
    }
    // Once the blocks' unspent units are handed back, the log holds exactly the 50 requests.
    const key = budgetKey(ctx.config.REDIS_PREFIX, 'partner', p.partner_id);
    await pollUntil(async () => (await first.deps.redis.zcard(key)) === 50, 10_000);
  });

  it('never admits more than the limit across instances, and every unit is spent in the end', async () => {
    const lease = { units: 8, ms: 1_000, reserveFactor: 4 };
    const limiters = [
      createRateLimiter(first.deps.redis, first.app.log, { lease }),
      createRateLimiter(second.deps.redis, second.app.log, { lease }),
    ];
    const key = budgetKey(ctx.config.REDIS_PREFIX, 'partner', 'blocks-burst');
    const limit = 100;
    try {
      const burst = await Promise.all(
        Array.from({ length: 300 }, (_, i) => limiters[i % 2]!.consume(key, limit)),
      );
      const admitted = burst.filter((d) => d.allowed).length;
      expect(admitted).toBeLessThanOrEqual(limit);
      // Blocks were charged: fewer distinct charges (member prefixes) than admitted requests.
      const members = await first.deps.redis.zrange(key, 0, -1);
      const charges = new Set(members.map((m) => m.slice(0, m.lastIndexOf(':'))));
      expect(charges.size).toBeLessThan(admitted);
      // Unspent units come back when their block ends; then one instance spends the budget to the last
      // unit (near the limit each request is charged on its own).
      await pollUntil(async () => (await first.deps.redis.zcard(key)) === admitted, 10_000);
      let more = 0;
      for (;;) {
        const d = await limiters[0]!.consume(key, limit);
        if (!d.allowed) break;
        more++;
      }
      expect(admitted + more).toBe(limit);
      expect(await first.deps.redis.zcard(key)).toBe(limit);
    } finally {
      for (const l of limiters) l.close();
    }
  });
});

describe('per-IP budgets', () => {
  it('limits anonymous calls and refused credentials per client IP, each in its own budget', async () => {
    const ip = '10.9.8.7';
    const anonymous: number[] = [];
    for (let i = 0; i < PUBLIC_LIMIT + 2; i++) {
      const res =
        i % 2 === 0
          ? await second.app.inject({ method: 'GET', url: '/qr/CODE/info', remoteAddress: ip })
          : await second.app.inject({ method: 'GET', url: '/api/ota/echo/x', remoteAddress: ip });
      anonymous.push(res.statusCode);
    }
    expect(anonymous.slice(0, PUBLIC_LIMIT).every((s) => s === 200 || s === 401)).toBe(true);
    expect(anonymous.slice(PUBLIC_LIMIT)).toEqual([429, 429]);

    // Refused credentials have their own budget: not spent by the anonymous calls above.
    const refused: number[] = [];
    for (let i = 0; i < FAILED_LIMIT + 2; i++) {
      const res = await second.app.inject({
        method: 'GET',
        url: i % 2 ? '/api/ota/echo/x' : '/api/admin/partners',
        headers: bearer(`ck_live_nope${i}`),
        remoteAddress: ip,
      });
      refused.push(res.statusCode);
      if (i === 0) expect(res.headers['ratelimit-limit']).toBe(String(FAILED_LIMIT));
    }
    expect(refused.slice(0, FAILED_LIMIT)).toEqual(Array(FAILED_LIMIT).fill(401));
    expect(refused.slice(FAILED_LIMIT)).toEqual([429, 429]);

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
      remoteAddress: ip,
    });
    expect(partnerCall.statusCode).toBe(200);
  });
});

describe('payment webhooks', () => {
  const webhook = (gw: Gateway, ip: string, signature?: string, body = '{"payment_id":"p"}') =>
    gw.app.inject({
      method: 'POST',
      url: '/payments/notify',
      headers: {
        'content-type': 'application/json',
        ...(signature === undefined ? {} : { 'x-payment-signature': signature }),
      },
      payload: body,
      remoteAddress: ip,
    });
  const signed = (body = '{"payment_id":"p"}') =>
    signPayment(ctx.config.PAYMENT_WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000));

  it('a validly signed webhook is never refused by, nor charged to, the IP budgets', async () => {
    const ip = '10.7.7.7';
    // The finding: GET /qr/x/info ×61 from the provider's IP, then 5 signed webhooks → 5×429.
    for (let i = 0; i <= PUBLIC_LIMIT; i++) {
      await first.app.inject({ method: 'GET', url: '/qr/x/info', remoteAddress: ip });
    }
    for (let i = 0; i <= FAILED_LIMIT; i++) await webhook(first, ip, 't=1,v1=00');
    expect((await first.app.inject({ method: 'GET', url: '/qr/x/info', remoteAddress: ip })).statusCode).toBe(
      429,
    );
    expect((await webhook(first, ip, 't=1,v1=00')).statusCode).toBe(429);

    for (let i = 0; i < 5; i++) {
      const body = `{"payment_id":"p${i}"}`;
      const res = await webhook(i % 2 ? first : second, ip, signed(body), body);
      expect(res.statusCode, res.body).toBe(200);
    }
    // From a fresh address, many signed webhooks leave both budgets untouched.
    const fresh = '10.7.7.9';
    for (let i = 0; i < PUBLIC_LIMIT + FAILED_LIMIT; i++) {
      expect((await webhook(second, fresh, signed())).statusCode).toBe(200);
    }
    const info = await first.app.inject({ method: 'GET', url: '/qr/x/info', remoteAddress: fresh });
    expect(info.headers['ratelimit-remaining']).toBe(String(PUBLIC_LIMIT - 1));
    const bad = await webhook(first, fresh, 't=1,v1=00');
    expect(bad.headers['ratelimit-remaining']).toBe(String(FAILED_LIMIT - 1));
  });

  it('refuses a missing, forged or stale signature at the edge (401 INVALID_SIGNATURE), never forwarding it', async () => {
    const before = upstream.hits();
    const body = '{"payment_id":"forged"}';
    const t = Math.floor(Date.now() / 1000);
    for (const signature of [
      undefined,
      't=1,v1=00',
      signPayment('another-secret-0123456789', body, t),
      signPayment(ctx.config.PAYMENT_WEBHOOK_SECRET, body, t - 301),
      signPayment(ctx.config.PAYMENT_WEBHOOK_SECRET, `${body} `, t),
    ]) {
      const res = await webhook(first, '10.7.8.1', signature, body);
      expect(res.statusCode, String(signature)).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('INVALID_SIGNATURE');
    }
    expect(upstream.hits()).toBe(before);
  });

  it('a concurrent burst of bad signatures passes exactly the budget, charged before any is forwarded', async () => {
    const before = upstream.hits();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => webhook(i % 2 ? first : second, '10.7.8.2', `t=${i},v1=00`)),
    );
    expect(results.filter((r) => r.statusCode === 401)).toHaveLength(FAILED_LIMIT);
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(40 - FAILED_LIMIT);
    expect(upstream.hits()).toBe(before);
  });

  it('control: the old charge-after-the-answer budget over-admits the same concurrent burst', async () => {
    // What the gateway did before: look at the budget (cost 0), forward, and charge the IP only once
    // the owning service had refused. Every request of a burst looks before any of them is charged.
    const limiter = createRateLimiter(first.deps.redis, first.app.log);
    const key = budgetKey(ctx.config.REDIS_PREFIX, 'failed', 'control-10.7.8.3');
    try {
      const looked = await Promise.all(
        Array.from({ length: 40 }, () => limiter.consume(key, FAILED_LIMIT, 0)),
      );
      const forwarded = await Promise.all(
        looked.map(async (d) => {
          if (!d.allowed) return false;
          const res = await fetch(`${upstream.url}/payments/notify`, { method: 'POST', body: '{}' });
          await res.arrayBuffer();
          await limiter.consume(key, FAILED_LIMIT); // charged after the refusal
          return true;
        }),
      );
      expect(forwarded.filter(Boolean).length).toBeGreaterThan(FAILED_LIMIT);
    } finally {
      limiter.close();
    }
  });
});

describe('device routes', () => {
  it('are left to redemption (it alone can tell a valid key): forwarded with the client IP, never charged here', async () => {
    const before = upstream.hits();
    for (let i = 0; i < FAILED_LIMIT + PUBLIC_LIMIT + 5; i++) {
      const res = await first.app.inject({
        method: 'POST',
        url: '/venue/redeem',
        headers: { ...(i % 2 ? bearer('dk_guess') : {}), 'content-type': 'application/json' },
        payload: '{}',
        remoteAddress: '10.7.9.1',
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().headers['x-forwarded-for']).toBe('10.7.9.1');
    }
    expect(upstream.hits() - before).toBe(FAILED_LIMIT + PUBLIC_LIMIT + 5);
  });
});

describe('client IP and TRUSTED_PROXIES', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    // The default configuration trusts no proxy: a client cannot buy a fresh budget per forged header.
    const statuses: number[] = [];
    for (let i = 0; i < PUBLIC_LIMIT + 1; i++) {
      const res = await first.app.inject({
        method: 'GET',
        url: '/qr/CODE/info',
        headers: { 'x-forwarded-for': `203.0.113.${i}` },
        remoteAddress: '192.0.2.10',
      });
      statuses.push(res.statusCode);
      if (i === 0) expect(res.json().headers['x-forwarded-for']).toBe('203.0.113.0, 192.0.2.10');
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, PUBLIC_LIMIT).every((s) => s === 200)).toBe(true);
  });

  it('uses X-Forwarded-For from a trusted proxy: each client behind it has its own budget', async () => {
    const gw = await startGateway({
      ...ctx.config,
      TRUSTED_PROXIES: '10.20.0.0/16, 127.0.0.1',
      INVENTORY_URL: upstream.url,
      ISSUANCE_URL: upstream.url,
      REDEMPTION_URL: upstream.url,
    });
    try {
      const viaProxy = (client: string) =>
        gw.app.inject({
          method: 'GET',
          url: '/qr/CODE/info',
          headers: { 'x-forwarded-for': client },
          remoteAddress: '10.20.1.1',
        });
      const statuses: number[] = [];
      for (let i = 0; i < PUBLIC_LIMIT + 1; i++) statuses.push((await viaProxy('198.51.100.7')).statusCode);
      expect(statuses.slice(0, PUBLIC_LIMIT).every((s) => s === 200)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
      // Another client behind the same load balancer is not starved by the first.
      const other = await viaProxy('198.51.100.8');
      expect(other.statusCode).toBe(200);
      // The services get the standard chain (redemption resolves it with the same TRUSTED_PROXIES).
      expect(other.json().headers['x-forwarded-for']).toBe('198.51.100.8, 10.20.1.1');
      // A forged entry in front of the proxy's own is not believed (only trusted hops are skipped).
      const forged = await gw.app.inject({
        method: 'GET',
        url: '/qr/CODE/info',
        headers: { 'x-forwarded-for': '1.2.3.4, 198.51.100.7' },
        remoteAddress: '10.20.1.1',
      });
      expect(forged.statusCode).toBe(429);
    } finally {
      await gw.close();
    }
  });

  it('refuses a TRUSTED_PROXIES value that is not a list of addresses, naming the variable', async () => {
    const { loadConfig } = await import('@cruise/shared');
    expect(() => loadConfig({ ...ctx.env, TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ ...ctx.env, TRUSTED_PROXIES: 'proxy.example' })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ ...ctx.env, TRUSTED_PROXIES: 'loopback, 10.0.0.0/8, ::1' }).TRUSTED_PROXIES).toBe(
      'loopback, 10.0.0.0/8, ::1',
    );
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
      expect(metrics).toMatch(/^gateway_rate_limited_total\{[^}]*scope="anonymous"[^}]*\} 1$/m);
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
