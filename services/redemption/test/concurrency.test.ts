// Two scanners on the same entitlement at the same moment: exactly one is accepted. Each real run is
// paired with a control run of the naive read-then-write a first draft would write (performed by this
// test itself, below: no row lock, acceptance decided by what was read) that shows the race the
// projection row lock closes. Lock waits and barriers make the interleavings deterministic, not timing.
// (Checked: with FOR UPDATE removed from redemption.redeem_scan, both real runs fail.)
import { appendEvent, withTransaction } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedeemResult, redeem } from '../src/domain/redeem.ts';
import { createDevice, projectTickets, type Running, snapshot, startRedemption } from './support.ts';

let ctx: TestContext;
let r: Running;
let device: { device_id: string; device_key: string };

beforeAll(async () => {
  // Every concurrent scan holds a connection while it waits for the ticket's lock or at a barrier.
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
 * `n` real scans at once, truly racing for the ticket: this test blocks writes to the redemptions
 * table while all of them start, waits until every one of them is inside its statement waiting for a
 * lock, then lets go.
 */
async function scanTogether(ticketCode: string, functionCodes: string[]): Promise<RedeemResult[]> {
  const holder = await r.deps.pool.connect();
  try {
    await holder.query('BEGIN');
    // Reads pass; the first redemption insert waits. Every scan ends up waiting at the first point of
    // the function where it needs something another holds: the one that got the ticket's row lock at
    // the insert, the others at the row lock (without that lock, all of them at the insert, having read).
    await holder.query('LOCK TABLE redemption.redemptions IN EXCLUSIVE MODE');
    const scans = functionCodes.map((functionCode) =>
      redeem(deps(), {
        device: { deviceId: device.device_id },
        ticketCode,
        functionCode,
      }),
    );
    for (;;) {
      const { rows } = await r.deps.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%redeem_scan(%'`,
      );
      if (rows[0]!.n === functionCodes.length) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await holder.query('COMMIT');
    return await Promise.all(scans);
  } finally {
    holder.release();
  }
}

/**
 * The control: the naive read-then-write, without the row lock. Every scanner reads the ticket and its
 * redemptions, all of them meet after their checks passed (so all read "not yet redeemed" before any
 * writes, which the row lock makes impossible), then each writes what it decided.
 */
function naiveScansTogether(ticketCode: string, functionCodes: string[]): Promise<boolean[]> {
  const meet = barrier(functionCodes.length);
  return Promise.all(
    functionCodes.map((functionCode) =>
      withTransaction(r.deps.pool, async (client) => {
        const { rows } = await client.query<{ status: string; function_codes: string[] }>(
          'SELECT status, function_codes FROM redemption.tickets WHERE ticket_code = $1',
          [ticketCode],
        );
        const ticket = rows[0]!;
        const done = (
          await client.query<{ function_code: string }>(
            'SELECT function_code FROM redemption.redemptions WHERE ticket_code = $1',
            [ticketCode],
          )
        ).rows.map((x) => x.function_code);
        if (ticket.status !== 'ACTIVE' || done.includes(functionCode)) return false;
        await meet();
        const at = new Date().toISOString();
        // The unique constraint refuses the duplicate row; the draft trusts what it read and accepts.
        await client.query(
          `INSERT INTO redemption.redemptions (ticket_code, function_code, redeemed_at, device_id)
           VALUES ($1, $2, now(), $3) ON CONFLICT DO NOTHING`,
          [ticketCode, functionCode, device.device_id],
        );
        await appendEvent(client, 'redemption', 'ticketRedeemed', {
          ticket_code: ticketCode,
          function_code: functionCode,
          redeemed_at: at,
        });
        const remaining = ticket.function_codes.filter((fc) => fc !== functionCode && !done.includes(fc));
        if (remaining.length === 0) {
          await client.query(`UPDATE redemption.tickets SET status = 'USED' WHERE ticket_code = $1`, [
            ticketCode,
          ]);
          await appendEvent(client, 'redemption', 'ticketUsed', {
            ticket_code: ticketCode,
            used_at: at,
            entitlements: ticket.function_codes.map((fc) => ({ function_code: fc, redeemed_at: at })),
          });
        }
        return true;
      }),
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
    const results = await naiveScansTogether(t!.ticket_code, Array(10).fill('FERRY'));
    expect(results.filter(Boolean).length).toBeGreaterThan(1);
    expect(await usedEvents(t!.ticket_code)).toBeGreaterThan(1);
  });

  it('with the row lock, exactly one is accepted and the others see the first redemption', async () => {
    const single = [{ function_code: 'FERRY', redeemed_at: null }];
    const [t] = await projectTickets(r, ctx.config, [snapshot({ entitlements: single })]);
    const results = await scanTogether(t!.ticket_code, Array(10).fill('FERRY'));
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
    const results = await naiveScansTogether(t!.ticket_code, ['FERRY', 'LUNCH', 'SHOW']);
    expect(results.filter(Boolean).length).toBe(3);
    expect(await redemptionRows(t!.ticket_code)).toBe(3);
    expect(await statusOf(t!.ticket_code)).toBe('ACTIVE');
    expect(await usedEvents(t!.ticket_code)).toBe(0);
  });

  it('with the row lock, the scan that redeems the last one turns the ticket USED, once', async () => {
    const [t] = await projectTickets(r, ctx.config, [snapshot()]);
    const results = await scanTogether(t!.ticket_code, ['FERRY', 'LUNCH', 'SHOW']);
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
