// Scanners may call this port directly, so its public routes carry the gateway's limits, in the same
// Redis budgets: anonymous calls and refused device keys per client IP (charged before any work, so a
// concurrent burst of bad keys passes exactly the budget), valid devices per device and never by IP.
import { randomUUID } from 'node:crypto';
import { budgetKey, createRateLimiter, signInternalRequest } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateDevice } from '../src/domain/devices.ts';
import {
  createDevice,
  fakeIssuanceSnapshots,
  projectTickets,
  type Running,
  snapshot,
  startRedemption,
} from './support.ts';

const PUBLIC_LIMIT = 12;
const FAILED_LIMIT = 8;
const DEVICE_LIMIT = 15;

let ctx: TestContext;
let r: Running;
let issuance: ReturnType<typeof fakeIssuanceSnapshots>;

beforeAll(async () => {
  ctx = await createTestContext({
    PUBLIC_RATE_LIMIT_PER_MINUTE: String(PUBLIC_LIMIT),
    FAILED_AUTH_RATE_LIMIT_PER_MINUTE: String(FAILED_LIMIT),
    DEVICE_RATE_LIMIT_PER_MINUTE: String(DEVICE_LIMIT),
  });
  r = await startRedemption(ctx.config);
  issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
});
afterAll(async () => {
  issuance?.stop();
  await r?.close();
  await ctx?.cleanup();
});

const scan = (ip: string, key: string | null, payload: Record<string, unknown>, headers = {}) =>
  r.app.inject({
    method: 'POST',
    url: '/venue/redeem',
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
    payload,
    remoteAddress: ip,
  });
const info = (ip: string, headers = {}) =>
  r.app.inject({ method: 'GET', url: '/qr/NOSUCHCODE/info', headers, remoteAddress: ip });

async function tickets(n: number) {
  return projectTickets(
    r,
    ctx.config,
    Array.from({ length: n }, () => issuance.put(snapshot())),
  );
}

describe('the redemption port, called directly', () => {
  it('limits /qr/{code}/info and key-less scans per client IP (anonymous budget)', async () => {
    const ip = '10.1.0.1';
    const statuses: number[] = [];
    for (let i = 0; i < PUBLIC_LIMIT + 2; i++) {
      statuses.push(
        (i % 2 ? await info(ip) : await scan(ip, null, { ticket_code: 'X', function_code: 'FERRY' }))
          .statusCode,
      );
    }
    expect(statuses.slice(0, PUBLIC_LIMIT).every((s) => s === 404 || s === 401)).toBe(true);
    expect(statuses.slice(PUBLIC_LIMIT)).toEqual([429, 429]);
    const limited = await info(ip);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await info('10.1.0.2')).statusCode).toBe(404);
  });

  it('valid scans are accepted after anonymous calls and bad keys spent every budget of their IP', async () => {
    const ip = '10.1.1.1';
    for (let i = 0; i <= PUBLIC_LIMIT; i++) await info(ip);
    for (let i = 0; i <= FAILED_LIMIT; i++)
      await scan(ip, `dev_guess${i}`, { ticket_code: 'X', function_code: 'FERRY' });
    expect((await info(ip)).statusCode).toBe(429);
    expect((await scan(ip, 'dev_guess', { ticket_code: 'X', function_code: 'FERRY' })).statusCode).toBe(429);

    // The finding: 3 valid scans from the gate's IP → 3×429.
    const gate = await createDevice(r.app, ctx.config, 'Pier 1', 'Gate 1');
    const ts = await tickets(3);
    for (const t of ts) {
      const res = await scan(ip, gate.device_key, { ticket_code: t.ticket_code, function_code: 'FERRY' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().result).toBe('ACCEPTED');
      expect(res.headers['ratelimit-limit']).toBe(String(DEVICE_LIMIT));
    }
  });

  it('each valid device has its own budget (DEVICE_RATE_LIMIT_PER_MINUTE), not its IP', async () => {
    const busy = await createDevice(r.app, ctx.config, 'Pier 2', 'Busy gate');
    const calm = await createDevice(r.app, ctx.config, 'Pier 2', 'Calm gate');
    const statuses: number[] = [];
    // Entitlement misses are cheap answers that still count as scans.
    for (let i = 0; i < DEVICE_LIMIT + 1; i++) {
      statuses.push(
        (await scan('10.1.2.1', busy.device_key, { ticket_code: 'NOSUCH', function_code: 'FERRY' }))
          .statusCode,
      );
    }
    expect(statuses.slice(0, DEVICE_LIMIT).every((s) => s === 422)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // From another IP the same device is still limited; another device on the same IP is not.
    expect(
      (await scan('10.1.2.2', busy.device_key, { ticket_code: 'NOSUCH', function_code: 'FERRY' })).statusCode,
    ).toBe(429);
    expect(
      (await scan('10.1.2.1', calm.device_key, { ticket_code: 'NOSUCH', function_code: 'FERRY' })).statusCode,
    ).toBe(422);
  });

  it('a concurrent burst of bad device keys passes exactly the budget; the rest are 429 before any lookup', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        scan('10.1.3.1', `dev_burst${i}`, { ticket_code: 'X', function_code: 'FERRY' }),
      ),
    );
    expect(results.filter((res) => res.statusCode === 401)).toHaveLength(FAILED_LIMIT);
    expect(results.filter((res) => res.statusCode === 429)).toHaveLength(40 - FAILED_LIMIT);
  });

  it('control: charging after the refusal (the old gateway) lets the same concurrent burst through', async () => {
    // The old approach: look at the budget without spending (cost 0), check the key, charge after the
    // 401. Every request of a burst looks before any of them is charged.
    const limiter = createRateLimiter(r.deps.redis, r.app.log);
    const key = budgetKey(ctx.config.REDIS_PREFIX, 'failed', 'control-10.1.3.2');
    try {
      const looked = await Promise.all(
        Array.from({ length: 40 }, () => limiter.consume(key, FAILED_LIMIT, 0)),
      );
      const checked = await Promise.all(
        looked.map(async (d, i) => {
          if (!d.allowed) return false;
          expect(await authenticateDevice(r.deps.pool, `dev_burst_control${i}`)).toBeNull();
          await limiter.consume(key, FAILED_LIMIT);
          return true;
        }),
      );
      expect(checked.filter(Boolean).length).toBeGreaterThan(FAILED_LIMIT);
    } finally {
      limiter.close();
    }
  });
});

describe('requests the gateway forwarded', () => {
  // Signed as the gateway signs a forwarded public request (no caller identity).
  const viaGateway = (clientChain: string, method = 'POST', url = '/venue/redeem') => ({
    ...signInternalRequest(ctx.config.INTERNAL_TOKEN, {
      method,
      url,
      requestId: randomUUID(),
      caller: { kind: 'none' },
    }),
    'x-forwarded-for': clientChain,
  });

  it('charge bad device keys to the client the gateway names, not to the gateway', async () => {
    // The gateway at 127.0.0.1 forwards two clients; one spends its failed-credentials budget.
    for (let i = 0; i < FAILED_LIMIT; i++) {
      const res = await scan(
        '127.0.0.1',
        `dev_x${i}`,
        { ticket_code: 'X', function_code: 'FERRY' },
        viaGateway('198.51.100.1'),
      );
      expect(res.statusCode).toBe(401);
    }
    expect(
      (
        await scan(
          '127.0.0.1',
          'dev_y',
          { ticket_code: 'X', function_code: 'FERRY' },
          viaGateway('198.51.100.1'),
        )
      ).statusCode,
    ).toBe(429);
    expect(
      (
        await scan(
          '127.0.0.1',
          'dev_z',
          { ticket_code: 'X', function_code: 'FERRY' },
          viaGateway('198.51.100.2'),
        )
      ).statusCode,
    ).toBe(401);
  });

  it('ignore X-Forwarded-For without the gateway proof (TRUSTED_PROXIES is empty here)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < FAILED_LIMIT + 1; i++) {
      const res = await scan(
        '10.1.4.1',
        `dev_f${i}`,
        { ticket_code: 'X', function_code: 'FERRY' },
        {
          'x-forwarded-for': `203.0.113.${i}`,
        },
      );
      statuses.push(res.statusCode);
    }
    expect(statuses.at(-1)).toBe(429);
  });

  it('do not pay the anonymous budget again for /qr/{code}/info (the gateway charged it)', async () => {
    for (let i = 0; i < PUBLIC_LIMIT + 3; i++) {
      expect(
        (await info('127.0.0.2', viaGateway('198.51.100.3', 'GET', '/qr/NOSUCHCODE/info'))).statusCode,
      ).toBe(404);
    }
  });
});
