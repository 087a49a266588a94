// Tickets after issuance: resellers, activation, cancel, tentative expiry, redemption events, the
// ticketSnapshot responder, direct orders, partner isolation, and the reports agreeing with all of it.
import { randomUUID } from 'node:crypto';
import {
  createCommandClient,
  dayTypeOf,
  type EventEnvelope,
  events,
  publishEvent,
  venueDate,
  withTransaction,
} from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueBatches } from '../src/domain/batch-expiry.ts';
import { generateBatch } from '../src/domain/batches.ts';
import { flushPendingReleases } from '../src/domain/pool-releases.ts';
import { applyRedemptionEvents, type RedemptionEvent } from '../src/domain/redemption-events.ts';
import { activateTicket } from '../src/domain/tickets.ts';
import {
  adminHeaders,
  bulkGenerate,
  newPartner,
  paidTickets,
  partnerHeaders,
  poolOf,
  type System,
  startSystem,
  waitFor,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let a: string; // partner A
let b: string; // partner B
const hA = () => partnerHeaders(ctx.config, a);
const hB = () => partnerHeaders(ctx.config, b);

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  a = await newPartner(sys, [
    { productId: 106, channel: 'ota', allocated: 50 },
    { productId: 106, channel: 'reseller', allocated: 100 },
    { productId: 108, channel: 'reseller', allocated: 20 },
  ]);
  b = await newPartner(sys, [
    { productId: 106, channel: 'ota', allocated: 10 },
    { productId: 106, channel: 'reseller', allocated: 10 },
  ]);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

async function createReseller(headers: Record<string, string>, name: string) {
  const res = await sys.issuance.inject({
    method: 'POST',
    url: '/api/ota/resellers',
    headers,
    payload: { name },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().reseller_id as string;
}

/** A batch generated synchronously (no worker in this file). */
async function batch(
  headers: Record<string, string>,
  productId: number,
  quantity: number,
  resellerId: string,
) {
  const batch_id = await bulkGenerate(sys, headers, {
    product_id: productId,
    quantity,
    reseller_id: resellerId,
  });
  expect(await generateBatch(sys.deps.pool, batch_id, { chunkSize: 7 })).toBe('completed');
  const list = await sys.issuance.inject({
    url: `/api/ota/tickets?batch_id=${batch_id}&page_size=500`,
    headers,
  });
  return {
    batchId: batch_id as string,
    codes: list.json().data.map((t: { ticket_code: string }) => t.ticket_code) as string[],
  };
}

const post = (url: string, headers: Record<string, string>, payload?: object) =>
  sys.issuance.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

let r1: string;
let r2: string;
let batchA: { batchId: string; codes: string[] };
let paidCodes: string[];

describe('resellers', () => {
  it('CRUD, an Idempotency-Key on create, and another partner gets 404', async () => {
    const key = { ...hA(), 'idempotency-key': 'reseller-1' };
    const payload = {
      name: 'Harbour Tours',
      contact_email: 'ops@harbour.example',
      region: 'Shanghai',
      commission_rate: 0.125,
    };
    const first = await post('/api/ota/resellers', key, payload);
    const again = await post('/api/ota/resellers', key, payload);
    expect(first.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(first.json()).toMatchObject({ ...payload, status: 'ACTIVE' });
    r1 = first.json().reseller_id;
    r2 = await createReseller(hA(), 'Pier Kiosk');

    const list = await sys.issuance.inject({ url: '/api/ota/resellers', headers: hA() });
    expect(list.json()).toMatchObject({ total: 2, has_more: false });
    const patched = await sys.issuance.inject({
      method: 'PATCH',
      url: `/api/ota/resellers/${r2}`,
      headers: hA(),
      payload: { region: 'Ningbo', commission_rate: null },
    });
    expect(patched.json()).toMatchObject({ name: 'Pier Kiosk', region: 'Ningbo', commission_rate: null });

    for (const req of [
      { method: 'GET' as const, url: `/api/ota/resellers/${r1}` },
      { method: 'PATCH' as const, url: `/api/ota/resellers/${r1}`, payload: { name: 'stolen' } },
      { method: 'DELETE' as const, url: `/api/ota/resellers/${r1}` },
    ]) {
      const res = await sys.issuance.inject({ ...req, headers: hB() });
      expect(res.statusCode, req.method).toBe(404);
    }
    expect((await sys.issuance.inject({ url: '/api/ota/resellers', headers: hB() })).json().total).toBe(0);

    const unused = await createReseller(hA(), 'Never used');
    const del = await sys.issuance.inject({
      method: 'DELETE',
      url: `/api/ota/resellers/${unused}`,
      headers: hA(),
    });
    expect(del.statusCode).toBe(204);
    expect(
      (await sys.issuance.inject({ url: `/api/ota/resellers/${unused}`, headers: hA() })).statusCode,
    ).toBe(404);
  });
});

describe('activation and cancel', () => {
  it('activates a pre-generated ticket at today’s price, recording reseller → customer; only once', async () => {
    batchA = await batch(hA(), 106, 20, r1);
    expect(batchA.codes).toHaveLength(20);
    const before = await poolOf(sys, a, 106, 'reseller');
    const code = batchA.codes[0]!;
    const body = {
      customer_type: 'adult',
      customer: { name: 'Li Wei', email: 'li.wei@example.com' },
      reseller_id: r2,
      order_reference: 'KIOSK-0001',
    };
    const key = { ...hA(), 'idempotency-key': 'activate-1' };
    const res = await post(`/api/ota/tickets/${code}/activate`, key, body);
    expect(res.statusCode, res.body).toBe(200);
    const today = venueDate(new Date(), ctx.config.VENUE_TIMEZONE);
    const adultPrice = dayTypeOf(today) === 'weekend' ? 31800 : 28800;
    expect(res.json()).toMatchObject({
      ticket_code: code,
      status: 'ACTIVE',
      channel: 'reseller',
      batch_id: batchA.batchId,
      customer_type: 'adult',
      price: { amount: adultPrice, currency: 'USD' },
      customer: { name: 'Li Wei', email: 'li.wei@example.com' },
      reseller: { reseller_id: r2, name: 'Pier Kiosk' },
      order_reference: 'KIOSK-0001',
    });
    const after = await poolOf(sys, a, 106, 'reseller');
    expect([after.held, after.sold]).toEqual([before.held - 1, before.sold + 1]);

    const replay = await post(`/api/ota/tickets/${code}/activate`, key, body);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(res.json());
    const twice = await post(`/api/ota/tickets/${code}/activate`, hA(), body);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('TICKET_NOT_ACTIVE');
    expect((await poolOf(sys, a, 106, 'reseller')).sold).toBe(after.sold);

    const badType = await post(`/api/ota/tickets/${batchA.codes[1]}/activate`, hA(), {
      ...body,
      customer_type: 'pirate',
    });
    expect(badType.statusCode).toBe(422);
    expect(badType.json().code).toBe('UNKNOWN_CUSTOMER_TYPE');
    const foreign = await post(`/api/ota/tickets/${batchA.codes[1]}/activate`, hB(), body);
    expect(foreign.statusCode).toBe(404);
    const still = await sys.issuance.inject({ url: `/api/ota/tickets/${batchA.codes[1]}`, headers: hA() });
    expect(still.json().status).toBe('PRE_GENERATED');
  });

  it('an activation that dies after inventory sold the unit is completed by the retry, selling once', async () => {
    const code = batchA.codes[5]!;
    const before = await poolOf(sys, a, 106, 'reseller');
    const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
    const body = { customer_type: 'adult', customer: { name: 'Retry' } };
    const today = venueDate(new Date(), ctx.config.VENUE_TIMEZONE);
    await expect(
      withTransaction(sys.deps.pool, async (client) => {
        const r = await activateTicket(client, inventory, a, code, body, today);
        expect(r.ok).toBe(true);
        throw new Error('process died before commit');
      }),
    ).rejects.toThrow('process died');
    expect(
      (await sys.issuance.inject({ url: `/api/ota/tickets/${code}`, headers: hA() })).json().status,
    ).toBe('PRE_GENERATED');
    const retry = await post(`/api/ota/tickets/${code}/activate`, hA(), body);
    expect(retry.statusCode, retry.body).toBe(200);
    const after = await poolOf(sys, a, 106, 'reseller');
    expect([after.held, after.sold]).toEqual([before.held - 1, before.sold + 1]);
    // Back to held for the arithmetic of the later tests.
    expect((await post(`/api/ota/tickets/${code}/cancel`, hA())).json().status).toBe('CANCELLED');
  });

  it('five concurrent activations of one ticket: exactly one wins, one unit sold', async () => {
    const code = batchA.codes[4]!;
    const before = await poolOf(sys, a, 106, 'reseller');
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(
          `/api/ota/tickets/${code}/activate`,
          { ...hA(), 'idempotency-key': `race-${i}` },
          {
            customer_type: 'child',
            customer: { name: `Buyer ${i}` },
          },
        ),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409, 409, 409]);
    const after = await poolOf(sys, a, 106, 'reseller');
    expect([after.held, after.sold]).toEqual([before.held - 1, before.sold + 1]);
    // Put it back as it was for the rest of the file's arithmetic: cancelled units count below.
    const cancelled = await post(`/api/ota/tickets/${code}/cancel`, hA());
    expect(cancelled.json().status).toBe('CANCELLED');
  });

  it('cancels PRE_GENERATED (back to held) and unredeemed ACTIVE (back from sold); nothing else', async () => {
    const before = await poolOf(sys, a, 106, 'reseller');
    const pre = await post(`/api/ota/tickets/${batchA.codes[2]}/cancel`, hA());
    expect(pre.statusCode, pre.body).toBe(200);
    expect(pre.json()).toMatchObject({ status: 'CANCELLED' });
    expect(pre.json().cancelled_at).not.toBeNull();
    const active = await post(`/api/ota/tickets/${batchA.codes[0]}/cancel`, hA());
    expect(active.json().status).toBe('CANCELLED');
    const after = await poolOf(sys, a, 106, 'reseller');
    expect([after.held, after.sold]).toEqual([before.held - 1, before.sold - 1]);

    const again = await post(`/api/ota/tickets/${batchA.codes[2]}/cancel`, hA());
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('TICKET_NOT_CANCELLABLE');
    expect((await post(`/api/ota/tickets/${batchA.codes[3]}/cancel`, hB())).statusCode).toBe(404);
    const { rows } = await sys.deps.pool.query(
      'SELECT count(*)::int AS n FROM issuance.pending_releases WHERE sent_at IS NULL',
    );
    expect(rows[0].n).toBe(0);
  });

  it('an OTA ticket paid through the webhook cancels back into the ota pool', async () => {
    paidCodes = await paidTickets(sys, ctx.config, a, [{ customer_type: 'child', quantity: 3 }]);
    const soldBefore = (await poolOf(sys, a, 106, 'ota')).sold;
    const res = await post(`/api/ota/tickets/${paidCodes[2]}/cancel`, hA());
    expect(res.json().status).toBe('CANCELLED');
    expect((await poolOf(sys, a, 106, 'ota')).sold).toBe(soldBefore - 1);
  });
});

describe('redemption events and the snapshot responder', () => {
  const envelope = (type: string, data: object): EventEnvelope => ({
    id: randomUUID(),
    type,
    occurred_at: new Date().toISOString(),
    data,
  });

  it('tickets.redeemed marks the entitlement, tickets.used marks USED; repeats change nothing', async () => {
    const code = paidCodes[0]!;
    const t0 = (await sys.issuance.inject({ url: `/api/ota/tickets/${code}`, headers: hA() })).json();
    const functions: string[] = t0.entitlements.map((e: { function_code: string }) => e.function_code);
    const at = new Date(Date.now() - 60_000).toISOString();
    const usedAt = new Date().toISOString();
    const redeemed = envelope('tickets.redeemed', {
      ticket_code: code,
      function_code: functions[0],
      redeemed_at: at,
    });
    await publishEvent(sys.deps.nc, ctx.config.NATS_PREFIX, redeemed, 'events.redemption.tickets.redeemed');
    await publishEvent(
      sys.deps.nc,
      ctx.config.NATS_PREFIX,
      { ...redeemed, id: randomUUID() },
      'events.redemption.tickets.redeemed',
    );
    const afterRedeem = await waitFor('redeemed_at', async () => {
      const t = (await sys.issuance.inject({ url: `/api/ota/tickets/${code}`, headers: hA() })).json();
      return t.entitlements[0].redeemed_at ? t : undefined;
    });
    expect(afterRedeem.entitlements[0].redeemed_at).toBe(at);
    expect(afterRedeem.status).toBe('ACTIVE');

    // Redeemed: no longer cancellable.
    const cancel = await post(`/api/ota/tickets/${code}/cancel`, hA());
    expect(cancel.json().code).toBe('TICKET_NOT_CANCELLABLE');

    const used = envelope('tickets.used', {
      ticket_code: code,
      used_at: usedAt,
      entitlements: functions.map((f, i) => ({ function_code: f, redeemed_at: i === 0 ? at : usedAt })),
    });
    await publishEvent(sys.deps.nc, ctx.config.NATS_PREFIX, used, 'events.redemption.tickets.used');
    const afterUse = await waitFor('USED', async () => {
      const t = (await sys.issuance.inject({ url: `/api/ota/tickets/${code}`, headers: hA() })).json();
      return t.status === 'USED' ? t : undefined;
    });
    expect(afterUse.used_at).toBe(usedAt);
    expect(afterUse.entitlements.every((e: { redeemed_at: string | null }) => e.redeemed_at !== null)).toBe(
      true,
    );

    const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
    const snap = await inventory.send('ticketSnapshot', { ticket_code: code });
    expect(snap.ok).toBe(true);
    if (snap.ok) {
      expect(snap.ticket).toMatchObject({ ticket_code: code, partner_id: a, status: 'USED', channel: 'ota' });
      // Issued (0), redeemed (1), used (2): the duplicate redeemed event did not bump it.
      expect(snap.ticket.revision).toBe(2);
    }
    const missing = await inventory.send('ticketSnapshot', { ticket_code: 'NOPE' });
    expect(missing).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  /** Tickets of a partner of their own (so the reports below still count A's alone), and their functions. */
  async function freshTickets(quantity: number) {
    const c = await newPartner(sys, [{ productId: 106, channel: 'ota', allocated: quantity }]);
    const headers = partnerHeaders(ctx.config, c);
    const codes = await paidTickets(sys, ctx.config, c, [{ customer_type: 'adult', quantity }]);
    const first = (await sys.issuance.inject({ url: `/api/ota/tickets/${codes[0]}`, headers })).json();
    const functions: string[] = first.entitlements.map((e: { function_code: string }) => e.function_code);
    const get = async (code: string) =>
      (await sys.issuance.inject({ url: `/api/ota/tickets/${code}`, headers })).json();
    return { codes, functions, get };
  }
  const at = (k: number) => new Date(Date.UTC(2026, 0, 1, 9, k)).toISOString();
  const usedEvent = (ticket_code: string, functions: string[]) => ({
    ticket_code,
    used_at: at(functions.length),
    entitlements: functions.map((function_code, k) => ({ function_code, redeemed_at: at(k) })),
  });

  /** The redeemed/used partner events of `codes` in outbox order, with the outbox row each is in. */
  async function redemptionPartnerEvents(codes: string[]) {
    const { rows } = await sys.deps.pool.query<{
      outbox: string;
      code: string;
      type: string;
      revision: number;
      fn: string | null;
    }>(
      `SELECT o.id::text AS outbox, e->'data'->'ticket'->>'ticket_code' AS code, e->>'type' AS type,
              (e->>'revision')::int AS revision, e->'data'->>'function_code' AS fn
         FROM issuance.outbox o, jsonb_array_elements(o.envelope->'data'->'events') WITH ORDINALITY AS x(e, n)
        WHERE o.subject = $1 AND e->'data'->'ticket'->>'ticket_code' = ANY($2)
          AND e->>'type' IN ('ticket.redeemed', 'ticket.used')
        ORDER BY o.id, x.n`,
      [events.issuancePartnerEvents.subject, codes],
    );
    return rows;
  }

  /** Per ticket: one event per entitlement, then the USED one, revisions 1, 2, … (no trace of repeats). */
  function expectRedeemedThenUsed(
    rows: Awaited<ReturnType<typeof redemptionPartnerEvents>>,
    codes: string[],
    functions: string[],
  ) {
    for (const code of codes) {
      expect(
        rows.filter((row) => row.code === code).map(({ type, revision, fn }) => ({ type, revision, fn })),
      ).toEqual([
        ...functions.map((fn, k) => ({ type: 'ticket.redeemed', revision: k + 1, fn })),
        { type: 'ticket.used', revision: functions.length + 1, fn: null },
      ]);
    }
  }

  it('a burst of events published back to back, repeats among them: each change once, with its partner event, in order', async () => {
    const { codes, functions, get } = await freshTickets(12);
    // Back to back, without waiting: each ticket's entitlements redeemed, the first one again (a
    // redelivery under another id), then the ticket used. Issuance takes them as they queue up.
    const prefix = ctx.config.NATS_PREFIX;
    for (const ticket_code of codes) {
      for (const [k, function_code] of functions.entries()) {
        const data = { ticket_code, function_code, redeemed_at: at(k) };
        await publishEvent(
          sys.deps.nc,
          prefix,
          envelope('tickets.redeemed', data),
          events.ticketRedeemed.subject,
        );
      }
      const again = { ticket_code, function_code: functions[0]!, redeemed_at: at(0) };
      await publishEvent(
        sys.deps.nc,
        prefix,
        envelope('tickets.redeemed', again),
        events.ticketRedeemed.subject,
      );
      const used = usedEvent(ticket_code, functions);
      await publishEvent(sys.deps.nc, prefix, envelope('tickets.used', used), events.ticketUsed.subject);
    }
    const final = await waitFor('every ticket USED', async () => {
      const list = await Promise.all(codes.map(get));
      return list.every((t) => t.status === 'USED') ? list : undefined;
    });
    for (const t of final) {
      expect(t.used_at).toBe(at(functions.length));
      expect(t.entitlements).toEqual(
        functions.map((function_code, k) => ({ function_code, redeemed_at: at(k) })),
      );
    }
    expectRedeemedThenUsed(await redemptionPartnerEvents(codes), codes, functions);
  });

  it('a group is one transaction with one outbox write, each ticket in its order; applied again it changes nothing', async () => {
    const { codes, functions, get } = await freshTickets(3);
    // Interleaved across tickets (the last ticket first), each ticket's own events in order.
    const group: RedemptionEvent[] = [];
    for (const [k, function_code] of functions.entries()) {
      for (const ticket_code of [...codes].reverse())
        group.push({ ticket_code, function_code, redeemed_at: at(k) });
    }
    for (const ticket_code of codes) group.push(usedEvent(ticket_code, functions));
    await applyRedemptionEvents(sys.deps.pool, group);

    const rows = await redemptionPartnerEvents(codes);
    expect(new Set(rows.map((r) => r.outbox)).size).toBe(1);
    expectRedeemedThenUsed(rows, codes, functions);
    const tickets = await Promise.all(codes.map(get));
    for (const t of tickets) {
      expect(t).toMatchObject({
        status: 'USED',
        used_at: at(functions.length),
        entitlements: functions.map((function_code, k) => ({ function_code, redeemed_at: at(k) })),
      });
    }

    // A redelivered group: no change, no partner event.
    await applyRedemptionEvents(sys.deps.pool, group);
    expect(await redemptionPartnerEvents(codes)).toEqual(rows);
    expect(await Promise.all(codes.map(get))).toEqual(tickets);
  });
});

describe('tentative expiry', () => {
  it('expires the PRE_GENERATED tickets of a batch past its period and releases their held units, once', async () => {
    const small = await batch(hA(), 108, 6, r1);
    await post(`/api/ota/tickets/${small.codes[0]}/activate`, hA(), {
      customer_type: 'vip',
      customer: { name: 'Chen' },
    });
    await post(`/api/ota/tickets/${small.codes[1]}/cancel`, hA());
    const before = await poolOf(sys, a, 108, 'reseller');
    expect(before).toMatchObject({ held: 4, sold: 1 });

    const later = new Date(Date.now() + (ctx.config.BATCH_TENTATIVE_DAYS + 1) * 86_400_000);
    // Batch A of product 106 is due as well: count only this batch's tickets.
    await expireDueBatches(sys.deps.pool, later, 3);
    await flushPendingReleases(
      sys.deps.pool,
      createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000),
      sys.deps.log,
    );
    const { rows } = await sys.deps.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM issuance.tickets WHERE batch_id = $1 GROUP BY status ORDER BY status',
      [small.batchId],
    );
    expect(rows).toEqual([
      { status: 'ACTIVE', n: 1 },
      { status: 'CANCELLED', n: 1 },
      { status: 'EXPIRED', n: 4 },
    ]);
    expect(await poolOf(sys, a, 108, 'reseller')).toMatchObject({ held: 0, sold: 1 });
    const { rows: ev } = await sys.deps.pool.query<{ n: number }>(
      `SELECT coalesce(sum(jsonb_array_length(envelope->'data'->'tickets')), 0)::int AS n FROM issuance.outbox
       WHERE subject = 'events.issuance.tickets.expired'`,
    );
    expect(ev[0]!.n).toBe(4 + 16); // this batch's 4, and batch A's 16 still pre-generated
    expect(await expireDueBatches(sys.deps.pool, later)).toBe(0);
    expect((await poolOf(sys, a, 106, 'reseller')).held).toBe(0);
    // The relay published everything the tests wrote.
    await waitFor('outbox drained', async () => {
      const { rows: left } = await sys.deps.pool.query(
        'SELECT 1 FROM issuance.outbox WHERE published_at IS NULL LIMIT 1',
      );
      return left.length === 0 ? true : undefined;
    });
  });
});

describe('isolation', () => {
  it('another partner sees none of A’s tickets, batches or resellers', async () => {
    const rb = await createReseller(hB(), 'B seller');
    const own = await batch(hB(), 106, 2, rb);
    const list = (await sys.issuance.inject({ url: '/api/ota/tickets?page_size=500', headers: hB() })).json();
    expect(list.total).toBe(2);
    expect(list.data.map((t: { ticket_code: string }) => t.ticket_code).sort()).toEqual(
      [...own.codes].sort(),
    );
    for (const url of [
      `/api/ota/tickets/${batchA.codes[5]}`,
      `/api/ota/tickets/${paidCodes[1]}`,
      `/api/ota/batches/${batchA.batchId}`,
      `/api/ota/batches/${batchA.batchId}/tickets.csv`,
      `/api/ota/resellers/${r1}`,
    ]) {
      const res = await sys.issuance.inject({ url, headers: hB() });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    const filtered = await sys.issuance.inject({
      url: `/api/ota/tickets?batch_id=${batchA.batchId}`,
      headers: hB(),
    });
    expect(filtered.json().total).toBe(0);
    const batches = (await sys.issuance.inject({ url: '/api/ota/batches', headers: hB() })).json();
    expect(batches.data.map((x: { batch_id: string }) => x.batch_id)).toEqual([own.batchId]);
    expect((await sys.issuance.inject({ url: '/api/ota/tickets' })).statusCode).toBe(401);
  });
});

describe('direct orders', () => {
  it('sells from the direct pool with ACTIVE direct tickets; an Idempotency-Key replays', async () => {
    const before = await poolOf(sys, null, 107, 'direct');
    const payload = {
      product_id: 107,
      visit_date: '2030-01-05',
      items: [
        { customer_type: 'adult', quantity: 1 },
        { customer_type: 'family', quantity: 2 },
      ],
    };
    const headers = { ...adminHeaders(ctx.config), 'idempotency-key': 'order-1' };
    const res = await post('/api/direct/orders', headers, payload);
    expect(res.statusCode, res.body).toBe(201);
    const order = res.json();
    expect(order.tickets).toHaveLength(3);
    expect(order.total).toEqual({ amount: 22800 + 2 * 12800, currency: 'USD' }); // 2030-01-05 is a Saturday
    for (const t of order.tickets)
      expect(t).toMatchObject({ status: 'ACTIVE', channel: 'direct', order_id: order.order_id });
    const replay = await post('/api/direct/orders', headers, payload);
    expect(replay.json()).toEqual(order);
    expect((await poolOf(sys, null, 107, 'direct')).sold).toBe(before.sold + 3);
    const { rows } = await sys.deps.pool.query(
      'SELECT partner_id FROM issuance.tickets WHERE order_id = $1',
      [order.order_id],
    );
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.partner_id === null)).toBe(true);
    expect((await post('/api/direct/orders', hA(), payload)).statusCode).toBe(401);
  });
});

describe('reports', () => {
  it('billing summary and reconciliation agree with the ticket list and the pools, to the unit', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const all = (await sys.issuance.inject({ url: '/api/ota/tickets?page_size=500', headers: hA() })).json();
    const tickets: {
      status: string;
      price: { amount: number } | null;
      reseller: { reseller_id: string } | null;
      product_id: number;
      channel: string;
      activated_at: string | null;
      used_at: string | null;
      cancelled_at: string | null;
    }[] = all.data;
    expect(all.total).toBe(tickets.length);
    const count = (f: (t: (typeof tickets)[number]) => boolean) => tickets.filter(f).length;
    const summary = (
      await sys.issuance.inject({ url: `/api/ota/billing/summary?from=${today}&to=${today}`, headers: hA() })
    ).json();
    const inToday = (v: string | null) => v !== null && v.slice(0, 10) === today;
    const gross = tickets
      .filter((t) => inToday(t.activated_at) && (t.status === 'ACTIVE' || t.status === 'USED'))
      .reduce((s, t) => s + (t.price?.amount ?? 0), 0);
    expect(summary.totals).toEqual({
      issued: tickets.length,
      activated: count((t) => inToday(t.activated_at)),
      used: count((t) => inToday(t.used_at)),
      cancelled: count((t) => inToday(t.cancelled_at)),
      gross: { amount: gross, currency: 'USD' },
    });
    expect(summary.totals).toMatchObject({
      issued: 20 + 3 + 6,
      activated: 3 + 3 + 1,
      used: 1,
      cancelled: 4 + 1 + 1,
    });
    const byR1 = summary.by_reseller.find((r: { reseller_id: string }) => r.reseller_id === r1);
    expect(byR1).toMatchObject({
      name: 'Harbour Tours',
      issued: count((t) => t.reseller?.reseller_id === r1),
    });
    expect(
      summary.by_product.map((p: { product_id: number; issued: number }) => [p.product_id, p.issued]),
    ).toEqual([
      [106, 23],
      [108, 6],
    ]);
    const before = (
      await sys.issuance.inject({
        url: '/api/ota/billing/summary?from=2020-01-01&to=2020-12-31',
        headers: hA(),
      })
    ).json();
    expect(before.totals).toEqual({
      issued: 0,
      activated: 0,
      used: 0,
      cancelled: 0,
      gross: { amount: 0, currency: 'USD' },
    });

    const recon = (
      await sys.issuance.inject({
        url: `/api/ota/reports/reconciliation?from=${today}&to=${today}`,
        headers: hA(),
      })
    ).json();
    for (const row of recon.rows) {
      const mine = tickets.filter((t) => t.product_id === row.product_id && t.channel === row.channel);
      expect(row.tickets_sold, `${row.product_id}/${row.channel}`).toBe(
        mine.filter((t) => t.status === 'ACTIVE' || t.status === 'USED').length,
      );
      // Every unit went through this system: the pools' sold is the tickets sold.
      expect(row.sold, `${row.product_id}/${row.channel}`).toBe(row.tickets_sold);
      if (row.channel === 'reseller') expect(row.held).toBe(row.tickets_pre_generated);
    }
    const ota106 = recon.rows.find(
      (r: { product_id: number; channel: string }) => r.product_id === 106 && r.channel === 'ota',
    );
    expect(ota106).toMatchObject({ allocated: 50, sold: 2, activated: 3, cancelled: 1 });
    const res108 = recon.rows.find(
      (r: { product_id: number; channel: string }) => r.product_id === 108 && r.channel === 'reseller',
    );
    expect(res108).toMatchObject({
      allocated: 20,
      held: 0,
      sold: 1,
      expired: 4,
      cancelled: 1,
      tickets_pre_generated: 0,
    });
    const bad = await sys.issuance.inject({
      url: '/api/ota/billing/summary?from=2026-12-01&to=2026-11-01',
      headers: hA(),
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('list filters and reseller deletion', () => {
  it('filters by status, product, reseller and creation time; validates the query', async () => {
    const get = (qs: string) => sys.issuance.inject({ url: `/api/ota/tickets?${qs}`, headers: hA() });
    const all = (await get('page_size=500')).json();
    const count = (
      f: (t: { status: string; product_id: number; reseller: { reseller_id: string } | null }) => boolean,
    ) => all.data.filter(f).length;
    expect((await get('status=EXPIRED')).json().total).toBe(count((t) => t.status === 'EXPIRED'));
    expect((await get('product_id=108')).json().total).toBe(count((t) => t.product_id === 108));
    expect((await get(`reseller_id=${r2}`)).json().total).toBe(count((t) => t.reseller?.reseller_id === r2));
    const now = new Date();
    expect((await get(`created_from=${new Date(now.getTime() + 60_000).toISOString()}`)).json().total).toBe(
      0,
    );
    expect((await get(`created_to=${now.toISOString().slice(0, 10)}`)).json().total).toBe(0);
    expect((await get(`created_from=${now.toISOString().slice(0, 10)}`)).json().total).toBe(all.total);
    const page2 = (await get('page=2&page_size=10')).json();
    expect(page2).toMatchObject({ page: 2, page_size: 10, total: all.total, has_more: all.total > 20 });
    expect(page2.data.map((t: { ticket_code: string }) => t.ticket_code)).toEqual(
      all.data.slice(10, 20).map((t: { ticket_code: string }) => t.ticket_code),
    );
    const times = all.data.map((t: { created_at: string }) => t.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    for (const bad of ['status=SOLD', 'page_size=501', 'page=0', 'created_from=yesterday', 'batch_id=42']) {
      const res = await get(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('deleting a reseller that tickets refer to keeps it INACTIVE; a batch for it is then refused', async () => {
    const res = await sys.issuance.inject({
      method: 'DELETE',
      url: `/api/ota/resellers/${r1}`,
      headers: hA(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ reseller_id: r1, status: 'INACTIVE', name: 'Harbour Tours' });
    const t = (
      await sys.issuance.inject({ url: `/api/ota/tickets/${batchA.codes[1]}`, headers: hA() })
    ).json();
    expect(t.reseller).toEqual({ reseller_id: r1, name: 'Harbour Tours' });
    const refused = await post('/api/ota/tickets/bulk-generate', hA(), {
      product_id: 106,
      quantity: 1,
      reseller_id: r1,
    });
    expect(refused.statusCode).toBe(400);
  });
});
