// Two scanners on the same entitlement at the same moment: exactly one is accepted. Each real run is
// paired with a control run of the naive read-then-write (`guard: 'unguarded'`) that shows the race
// the projection row lock closes. Barriers make the interleavings deterministic, not timing.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedeemGuard, type RedeemResult, redeem } from '../src/domain/redeem.ts';
import { createDevice, projectTickets, type Running, snapshot, startRedemption } from './support.ts';

let ctx: TestContext;
let r: Running;
let device: { device_id: string; device_key: string };

beforeAll(async () => {
  // Every concurrent scan holds a connection while it waits at a barrier.
  ctx = await createTestContext({ DATABASE_POOL_SIZE: '30' });
  r = await startRedemption(ctx.config);
  device = await createDevice(r.app, ctx.config);
});
afterAll(async () => {
  await r?.close();
  await ctx?.cleanup();
});

/** Resolves for everyone once `n` callers have arrived. */
function barrier(n: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return async () => {
    if (++arrived === n) open();
    await opened;
  };
}

const deps = () => ({
  pool: r.deps.pool,
  qrSigningKey: ctx.config.QR_SIGNING_KEY,
  source: async () => {
    throw new Error('every ticket here is projected already');
  },
});

/**
 * `n` scans at once. The real run lines all transactions up right after BEGIN (so they truly race for
 * the ticket); the control lines them up after their checks passed (so all of them read "not yet
 * redeemed" before any writes, which the row lock would make impossible).
 */
function scanTogether(
  guard: RedeemGuard,
  ticketCode: string,
  functionCodes: string[],
): Promise<RedeemResult[]> {
  const meet = barrier(functionCodes.length);
  const probe = guard === 'row-lock' ? { afterBegin: meet } : { afterCheck: meet };
  return Promise.all(
    functionCodes.map((functionCode) =>
      redeem(
        deps(),
        {
          device: { deviceId: device.device_id, venue: 'Pier 3', manualEntry: true },
          ticketCode,
          functionCode,
        },
        {
          guard,
          probe,
        },
      ),
    ),
  );
}

async function countRows(sql: string, ticketCode: string): Promise<number> {
  const { rows } = await r.deps.pool.query<{ n: number }>(sql, [ticketCode]);
  return rows[0]!.n;
}
const redemptionRows = (code: string) =>
  countRows('SELECT count(*)::int AS n FROM redemption.redemptions WHERE ticket_code = $1', code);
const usedEvents = (code: string) =>
  countRows(
    `SELECT count(*)::int AS n FROM redemption.outbox
      WHERE subject = 'events.redemption.tickets.used' AND envelope->'data'->>'ticket_code' = $1`,
    code,
  );
const statusOf = async (code: string) =>
  (await r.deps.pool.query('SELECT status FROM redemption.tickets WHERE ticket_code = $1', [code])).rows[0]
    ?.status as string;

const accepted = (results: RedeemResult[]) => results.filter((x) => x.outcome === 'ACCEPTED').length;

describe('ten scanners, one entitlement', () => {
  it('control: without the row lock, several scanners let the same passenger through', async () => {
    const single = [{ function_code: 'FERRY', redeemed_at: null }];
    const [t] = await projectTickets(r, ctx.config, [snapshot({ entitlements: single })]);
    const results = await scanTogether('unguarded', t!.ticket_code, Array(10).fill('FERRY'));
    expect(accepted(results)).toBeGreaterThan(1);
    expect(await usedEvents(t!.ticket_code)).toBeGreaterThan(1);
  });

  it('with the row lock, exactly one is accepted and the others see the first redemption', async () => {
    const single = [{ function_code: 'FERRY', redeemed_at: null }];
    const [t] = await projectTickets(r, ctx.config, [snapshot({ entitlements: single })]);
    const results = await scanTogether('row-lock', t!.ticket_code, Array(10).fill('FERRY'));
    expect(accepted(results)).toBe(1);
    const winner = results.find((x) => x.outcome === 'ACCEPTED')!.body as { redeemed_at: string };
    const losers = results.filter((x) => x.outcome !== 'ACCEPTED');
    expect(losers).toHaveLength(9);
    for (const l of losers) {
      expect(l.status).toBe(409);
      expect(l.body).toMatchObject({
        code: 'ALREADY_REDEEMED',
        redeemed_at: winner.redeemed_at,
        ticket_status: 'USED',
      });
    }
    expect(await redemptionRows(t!.ticket_code)).toBe(1);
    expect(await usedEvents(t!.ticket_code)).toBe(1);
  });

  it('through HTTP, ten simultaneous scans accept exactly one', async () => {
    const [t] = await projectTickets(r, ctx.config, [snapshot()]);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        r.app.inject({
          method: 'POST',
          url: '/venue/redeem',
          headers: { authorization: `Bearer ${device.device_key}` },
          payload: { ticket_code: t!.ticket_code, function_code: 'LUNCH' },
        }),
      ),
    );
    const statuses = responses.map((x) => x.statusCode).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    const first = responses.find((x) => x.statusCode === 200)!.json().redeemed_at;
    for (const res of responses.filter((x) => x.statusCode === 409)) {
      expect(res.json()).toMatchObject({ code: 'ALREADY_REDEEMED', redeemed_at: first });
    }
    expect(await redemptionRows(t!.ticket_code)).toBe(1);
  });
});

describe('the last entitlements redeemed at the same moment', () => {
  it('control: without the row lock, the ticket is fully redeemed but never becomes USED', async () => {
    const [t] = await projectTickets(r, ctx.config, [snapshot()]);
    const results = await scanTogether('unguarded', t!.ticket_code, ['FERRY', 'LUNCH', 'SHOW']);
    expect(accepted(results)).toBe(3);
    expect(await redemptionRows(t!.ticket_code)).toBe(3);
    expect(await statusOf(t!.ticket_code)).toBe('ACTIVE');
    expect(await usedEvents(t!.ticket_code)).toBe(0);
  });

  it('with the row lock, the scan that redeems the last one turns the ticket USED, once', async () => {
    const [t] = await projectTickets(r, ctx.config, [snapshot()]);
    const results = await scanTogether('row-lock', t!.ticket_code, ['FERRY', 'LUNCH', 'SHOW']);
    expect(accepted(results)).toBe(3);
    expect(results.map((x) => (x.body as { ticket_status: string }).ticket_status).sort()).toEqual([
      'ACTIVE',
      'ACTIVE',
      'USED',
    ]);
    expect(await statusOf(t!.ticket_code)).toBe('USED');
    expect(await usedEvents(t!.ticket_code)).toBe(1);
  });
});

it('the same nonce sent five times at once has one effect and five identical answers', async () => {
  const [t] = await projectTickets(r, ctx.config, [snapshot()]);
  const responses = await Promise.all(
    Array.from({ length: 5 }, () =>
      r.app.inject({
        method: 'POST',
        url: '/venue/redeem',
        headers: { authorization: `Bearer ${device.device_key}` },
        payload: { ticket_code: t!.ticket_code, function_code: 'SHOW', nonce: 'burst-1' },
      }),
    ),
  );
  expect(responses.map((x) => x.statusCode)).toEqual([200, 200, 200, 200, 200]);
  expect(new Set(responses.map((x) => x.body)).size).toBe(1);
  expect(await redemptionRows(t!.ticket_code)).toBe(1);
  const { rows } = await r.deps.pool.query<{ replayed: boolean }>(
    'SELECT replayed FROM redemption.scans WHERE ticket_code = $1 ORDER BY replayed',
    [t!.ticket_code],
  );
  expect(rows.map((x) => x.replayed)).toEqual([false, true, true, true, true]);
});
