// The ticket projection: fed by issuance's events (newer revisions only, local USED kept), filled from
// issuance's ticketSnapshot command for a ticket not seen yet, 503 when issuance cannot answer, and
// nothing lost across a consumer restart.
import { randomUUID } from 'node:crypto';
import { connectNats, events, publishEvent, type TicketSnapshot } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminHeaders,
  createDevice,
  eventually,
  fakeIssuanceSnapshots,
  partnerHeaders,
  projectedRevision,
  projectTickets,
  publishTickets,
  type Running,
  snapshot,
  startRedemption,
} from './support.ts';

let ctx: TestContext;
let r: Running;
let device: { device_id: string; device_key: string };

beforeAll(async () => {
  ctx = await createTestContext({ NATS_REQUEST_TIMEOUT_MS: '1000' });
  r = await startRedemption(ctx.config);
  device = await createDevice(r.app, ctx.config);
});
afterAll(async () => {
  await r?.close();
  await ctx?.cleanup();
});

const scan = (payload: Record<string, unknown>) =>
  r.app.inject({
    method: 'POST',
    url: '/venue/redeem',
    headers: { authorization: `Bearer ${device.device_key}` },
    payload,
  });

async function projected(code: string) {
  const { rows } = await r.deps.pool.query<{ status: string; revision: number }>(
    'SELECT status, revision FROM redemption.tickets WHERE ticket_code = $1',
    [code],
  );
  return rows[0];
}

describe('events', () => {
  it('applies only newer revisions, so a late or repeated snapshot changes nothing', async () => {
    const t = snapshot({ revision: 5 });
    await projectTickets(r, ctx.config, [t]);
    await publishTickets(
      r.deps,
      ctx.config,
      [{ ...t, status: 'CANCELLED', revision: 3 }],
      'ticketsCancelled',
    );
    await publishTickets(r.deps, ctx.config, [t]); // a redelivery of the same event
    const marker = snapshot();
    await projectTickets(r, ctx.config, [marker]); // the stream is in order: once this is in, so are those
    expect(await projected(t.ticket_code)).toEqual({ status: 'ACTIVE', revision: 5 });

    await projectTickets(r, ctx.config, [{ ...t, status: 'CANCELLED', revision: 6 }]);
    expect(await projected(t.ticket_code)).toEqual({ status: 'CANCELLED', revision: 6 });
  });

  it('keeps a locally redeemed ticket USED, and its redemption times, when issuance still says ACTIVE', async () => {
    const one = [{ function_code: 'FERRY', redeemed_at: null }];
    const [t] = await projectTickets(r, ctx.config, [snapshot({ entitlements: one })]);
    const res = await scan({ ticket_code: t!.ticket_code, function_code: 'FERRY' });
    expect(res.json().ticket_status).toBe('USED');
    // Issuance changes something else about the ticket before it has heard of the redemption.
    await projectTickets(r, ctx.config, [{ ...t!, revision: t!.revision + 1 }]);
    const info = (await r.app.inject(`/qr/${t!.ticket_code}/info`)).json();
    expect(info).toMatchObject({
      status: 'USED',
      entitlements: [{ function_code: 'FERRY', redeemed_at: res.json().redeemed_at }],
      remaining: [],
    });
  });

  it('applies a large batch event in one go and skips a malformed event without blocking the stream', async () => {
    const partnerId = randomUUID();
    const batch = Array.from({ length: 2000 }, () =>
      snapshot({ status: 'PRE_GENERATED', channel: 'reseller', partner_id: partnerId }),
    );
    await publishEvent(
      r.deps.nc,
      ctx.config.NATS_PREFIX,
      {
        id: randomUUID(),
        type: 'tickets.issued',
        occurred_at: new Date().toISOString(),
        data: { tickets: 'x' },
      },
      'events.issuance.tickets.issued',
    );
    await projectTickets(r, ctx.config, batch);
    const { rows } = await r.deps.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM redemption.tickets WHERE partner_id = $1 AND status = 'PRE_GENERATED'",
      [partnerId],
    );
    expect(rows[0]!.n).toBe(2000);
  });

  it('applies a tickets.generated event as the snapshots its codes stand for, older revisions never winning', async () => {
    const partnerId = randomUUID();
    const { ticket_code: _, ...ticket } = snapshot({
      status: 'PRE_GENERATED',
      channel: 'reseller',
      partner_id: partnerId,
      revision: 0,
    });
    const codes = Array.from({ length: 2000 }, () => snapshot().ticket_code);
    const generated = {
      id: randomUUID(),
      type: 'tickets.generated',
      occurred_at: new Date().toISOString(),
      data: events.ticketsGenerated.data.parse({ batch_id: randomUUID(), ticket, ticket_codes: codes }),
    };
    await publishEvent(r.deps.nc, ctx.config.NATS_PREFIX, generated, events.ticketsGenerated.subject);
    const count = async () =>
      (
        await r.deps.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM redemption.tickets WHERE partner_id = $1 AND status = 'PRE_GENERATED'
             AND channel = 'reseller' AND product_id = $2 AND product_name = $3 AND revision = 0
             AND function_codes = $4::text[] AND created_at = $5::timestamptz`,
          [
            partnerId,
            ticket.product_id,
            ticket.product_name,
            ticket.entitlements.map((e) => e.function_code),
            ticket.created_at,
          ],
        )
      ).rows[0]!.n;
    await eventually(async () => (await count()) === 2000, 'the generated tickets projected');

    // One of them activated (revision 1), then the generated event delivered again: it stays ACTIVE.
    const activated = { ...ticket, ticket_code: codes[7]!, status: 'ACTIVE' as const, revision: 1 };
    await projectTickets(r, ctx.config, [activated], 'ticketsActivated');
    await publishEvent(
      r.deps.nc,
      ctx.config.NATS_PREFIX,
      { ...generated, id: randomUUID() },
      events.ticketsGenerated.subject,
    );
    const marker = snapshot();
    await projectTickets(r, ctx.config, [marker]); // the stream is in order: once this is in, so is that
    expect(await projected(codes[7]!)).toEqual({ status: 'ACTIVE', revision: 1 });
    expect(await count()).toBe(1999);
  });

  it('loses no event across a consumer restart while events keep coming', async () => {
    // Issuance's side: its own connection, publishing the whole time the consumer is down and back up.
    const issuanceNc = await connectNats(ctx.config, 'issuance-stand-in');
    const tickets: TicketSnapshot[] = [];
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        const chunk = Array.from({ length: 10 }, () => snapshot());
        await publishTickets({ nc: issuanceNc }, ctx.config, chunk);
        tickets.push(...chunk);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await eventually(async () => tickets.length >= 50, 'events before the stop');
      await r.close();
      const atStop = tickets.length;
      await eventually(async () => tickets.length >= atStop + 100, 'events while the consumer is down');
      r = await startRedemption(ctx.config);
      const atStart = tickets.length;
      await eventually(async () => tickets.length >= atStart + 50, 'events after the start');
    } finally {
      publishing = false;
      await publisher;
      await issuanceNc.drain();
    }
    // The consumer hands back whatever it had pulled when it stopped, so nothing waits out ack_wait.
    const codes = tickets.map((t) => t.ticket_code);
    const projectedCount = async () =>
      (
        await r.deps.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM redemption.tickets WHERE ticket_code = ANY($1)',
          [codes],
        )
      ).rows[0]!.n;
    await eventually(async () => (await projectedCount()) === tickets.length, 'every event', 10_000);
    for (const t of tickets) expect(await projectedRevision(r.deps, t.ticket_code)).toBe(t.revision);
  }, 120_000);
});

describe('tickets the projection has not seen yet', () => {
  it('a ticket issued a moment ago (its event not consumed) scans, gets a QR code and shows its info', async () => {
    const issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
    try {
      const fresh = issuance.put(snapshot());
      expect(await projected(fresh.ticket_code)).toBeUndefined();
      const res = await scan({ ticket_code: fresh.ticket_code, function_code: 'FERRY' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ ticket_status: 'ACTIVE', remaining: ['LUNCH', 'SHOW'] });

      const other = issuance.put(snapshot());
      const qr = await r.app.inject({
        method: 'POST',
        url: `/qr/${other.ticket_code}`,
        headers: partnerHeaders(ctx.config, other.partner_id!),
      });
      expect(qr.statusCode, qr.body).toBe(200);
      const byQr = await scan({ qr_token: qr.json().qr_token, function_code: 'SHOW' });
      expect(byQr.statusCode).toBe(200);

      const third = issuance.put(snapshot());
      const info = await r.app.inject(`/qr/${third.ticket_code}/info`);
      expect(info.json()).toMatchObject({
        ticket_code: third.ticket_code,
        status: 'ACTIVE',
        remaining: ['FERRY', 'LUNCH', 'SHOW'],
      });

      // When the issued event arrives later, it changes nothing that was recorded here.
      await projectTickets(r, ctx.config, [fresh]);
      const again = await scan({ ticket_code: fresh.ticket_code, function_code: 'FERRY' });
      expect(again.json()).toMatchObject({ code: 'ALREADY_REDEEMED', redeemed_at: res.json().redeemed_at });
    } finally {
      issuance.stop();
    }
  });

  it('a ticket activated a moment ago (still PRE_GENERATED here) is refreshed from issuance', async () => {
    const issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
    try {
      const [pre] = await projectTickets(r, ctx.config, [
        snapshot({ status: 'PRE_GENERATED', channel: 'reseller' }),
      ]);
      issuance.put({ ...pre!, status: 'ACTIVE', revision: pre!.revision + 1 });
      const res = await scan({ ticket_code: pre!.ticket_code, function_code: 'FERRY' });
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      issuance.stop();
    }
  });

  it('unknown codes are 404 on the info page and INVALID_QR at the gate', async () => {
    const issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
    try {
      const info = await r.app.inject('/qr/NOSUCHCODE/info');
      expect(info.statusCode).toBe(404);
      expect(info.json().code).toBe('NOT_FOUND');
      const qr = await r.app.inject({
        method: 'POST',
        url: '/qr/NOSUCHCODE',
        headers: adminHeaders(ctx.config),
      });
      expect(qr.statusCode).toBe(404);
      expect((await scan({ ticket_code: 'NOSUCHCODE', function_code: 'FERRY' })).json().code).toBe(
        'INVALID_QR',
      );
    } finally {
      issuance.stop();
    }
  });

  it('issuance not answering is 503 SERVICE_UNAVAILABLE (safe to retry), and the scan is still recorded', async () => {
    const code = snapshot().ticket_code;
    const res = await scan({ ticket_code: code, function_code: 'FERRY', nonce: 'n-503' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
    const info = await r.app.inject(`/qr/${code}/info`);
    expect(info.statusCode).toBe(503);
    const { rows } = await r.deps.pool.query('SELECT outcome FROM redemption.scans WHERE ticket_code = $1', [
      code,
    ]);
    expect(rows).toEqual([{ outcome: 'SERVICE_UNAVAILABLE' }]);

    // Once issuance answers, the retry with the same nonce is evaluated (a 503 is never stored).
    const issuance = fakeIssuanceSnapshots(r.deps, ctx.config);
    try {
      issuance.put(snapshot({ ticket_code: code }));
      const retry = await scan({ ticket_code: code, function_code: 'FERRY', nonce: 'n-503' });
      expect(retry.statusCode).toBe(200);
    } finally {
      issuance.stop();
    }
  });
});
