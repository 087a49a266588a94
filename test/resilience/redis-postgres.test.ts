// Faults in the data stores: Redis restarted during rate-limited traffic, PostgreSQL restarted under
// requests. Private PostgreSQL/Redis/NATS (infra.ts), all four services as processes; afterwards the
// system's invariants must hold.
import { randomBytes } from 'node:crypto';
import type { ServiceName } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FaultWorld, reserve, reserveOk, startFaultWorld } from './fault-system.ts';
import { describeViolations, waitForInvariants } from './invariants.ts';
import { call, expectStatus, pay, SERVICE_NAMES } from './system.ts';

const UPSTREAM_TIMEOUT_MS = 5_000;
let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld({ env: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) } });
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
}, 60_000);

async function expectInvariants() {
  const results = await waitForInvariants(world.db, { timeoutMs: 30_000 });
  expect(describeViolations(results)).toBe('');
}

interface Observed {
  status: number;
  problem: boolean;
  retryAfter: boolean;
  limitHeader: string | null;
  phase: string;
}

describe('Redis restarted during rate-limited traffic', () => {
  it('never answers 500 and the limits resume after the restart', async () => {
    const limit = 20;
    const partner = await world.newPartner({ rateLimitPerMinute: limit });
    const observed: Observed[] = [];
    const networkErrors: string[] = [];
    let phase = 'before';
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const res = await call('GET', `${world.system.gateway}/api/ota/inventory`, {
            token: partner.api_key,
            timeoutMs: UPSTREAM_TIMEOUT_MS + 5_000,
          });
          observed.push({
            status: res.status,
            problem: !!res.headers.get('content-type')?.includes('application/problem+json'),
            retryAfter: res.headers.has('retry-after'),
            limitHeader: res.headers.get('ratelimit-limit'),
            phase,
          });
        } catch (err) {
          networkErrors.push(`${phase}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    await new Promise((r) => setTimeout(r, 2_000));
    phase = 'down';
    await world.infra.redis.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await world.infra.redis.start();
    phase = 'after';
    // Until the gateway sees Redis again, then a few seconds of traffic against the restored limiter.
    await eventually(
      'gateway ready again',
      async () => ((await call('GET', `${world.system.gateway}/readyz`)).status === 200 ? true : undefined),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    running = false;
    await Promise.all(loops);

    expect(networkErrors).toEqual([]);
    expect(observed.filter((o) => ![200, 429, 503].includes(o.status))).toEqual([]);
    expect(observed.filter((o) => o.status >= 400 && !o.problem)).toEqual([]);
    expect(observed.filter((o) => o.status === 429 && !o.retryAfter)).toEqual([]);
    // The limit was enforced before the restart and is enforced again after it.
    expect(observed.some((o) => o.phase === 'before' && o.status === 429)).toBe(true);
    expect(observed.some((o) => o.phase === 'after' && o.status === 429)).toBe(true);
    expect(observed.filter((o) => o.status === 200).every((o) => o.limitHeader === String(limit))).toBe(true);

    // A partner first seen after the restart gets exactly its limit, then 429.
    const fresh = await world.newPartner({ rateLimitPerMinute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await call('GET', `${world.system.gateway}/api/ota/inventory`, { token: fresh.api_key })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    await expectInvariants();
  }, 120_000);
});

describe('PostgreSQL restarted', () => {
  it('turns readiness 503 then 200, answers every request within its timeout, and recovers', async () => {
    const partner = await world.newPartner({ ota: { 108: 100 } });
    const device = await world.op.createDevice();
    const held = await reserveOk(world.system, partner, 108, 2);
    const paidRes = expectStatus(
      await pay(world.system, held, `pay-${randomBytes(4).toString('hex')}`),
      200,
      'pay',
    );
    const ticketCode: string = paidRes.tickets[0].ticket_code;
    const readiness = async () => {
      // A service that died is a failure in itself: say which, with its last words.
      for (const [name, svc] of world.system.services) {
        if (svc.process.exitCode !== null || svc.process.signalCode !== null) {
          throw new Error(
            `${name} exited (${svc.process.exitCode ?? svc.process.signalCode}):\n${svc.logs().slice(-3000)}`,
          );
        }
      }
      return Object.fromEntries(
        await Promise.all(
          SERVICE_NAMES.map(
            async (n) => [n, (await call('GET', `${world.system.url(n)}/readyz`)).status] as const,
          ),
        ),
      ) as Record<ServiceName, number>;
    };
    expect(Object.values(await readiness()).every((s) => s === 200)).toBe(true);

    await world.infra.postgres.stop();
    // Every service reports the outage on /readyz (the gateway too: it keeps partners and keys there).
    await eventually(
      'every readiness 503',
      async () => {
        const r = await readiness();
        return Object.values(r).every((s) => s === 503) ? r : undefined;
      },
      20_000,
    );
    // Requests during the outage: each answered (not hung) within the upstream timeout plus a margin,
    // as 503 problem+json (never a 500 and never a success that did not happen).
    const attempts = [
      () =>
        call('GET', `${world.system.gateway}/api/ota/inventory`, {
          token: partner.api_key,
          timeoutMs: 15_000,
        }),
      () => reserve(world.system, partner, 108, 1, { timeoutMs: 15_000 }),
      () =>
        call('GET', `${world.system.gateway}/api/ota/tickets`, { token: partner.api_key, timeoutMs: 15_000 }),
      () =>
        call('POST', `${world.system.gateway}/venue/redeem`, {
          token: device.device_key,
          body: { ticket_code: ticketCode, function_code: 'FERRY' },
          timeoutMs: 15_000,
        }),
      () => pay(world.system, held, `pay-outage-${randomBytes(4).toString('hex')}`, { timeoutMs: 15_000 }),
    ];
    const during = await Promise.all(
      attempts.map(async (attempt) => {
        const res = await attempt();
        return { status: res.status, type: res.headers.get('content-type'), body: res.text.slice(0, 200) };
      }),
    );
    for (const d of during) {
      expect(d.status, d.body).toBe(503);
      expect(d.type).toContain('application/problem+json');
    }

    await world.infra.postgres.start();
    await eventually(
      'every readiness 200 again',
      async () => {
        const r = await readiness();
        return Object.values(r).every((s) => s === 200) ? r : undefined;
      },
      30_000,
    );
    // Work resumes: a hold, its payment, a scan, all through the gateway.
    const after = await eventually('reservation after the restart', async () => {
      const res = await reserve(world.system, partner, 108, 1);
      return res.status === 201 ? res.body : undefined;
    });
    const paid = await pay(world.system, after, `pay-after-${randomBytes(4).toString('hex')}`);
    expect(paid.status).toBe(200);
    const scan = await call('POST', `${world.system.gateway}/venue/redeem`, {
      token: device.device_key,
      body: { ticket_code: ticketCode, function_code: 'FERRY' },
    });
    expect(scan.status).toBe(200);
    await expectInvariants();
  }, 120_000);
});
