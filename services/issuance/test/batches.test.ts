// Bulk generation: the units are held before 202, a 10,000 batch completes with exactly 10,000
// distinct codes, a generation stopped part-way resumes without duplicates or gaps, and two workers
// on one batch take turns.
import { eventEnvelope, events } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchJobOptions, startBatchWorker } from '../src/app.ts';
import { generateBatch, generateNextChunk } from '../src/domain/batches.ts';
import { GENERATED_CODES_MAX } from '../src/domain/ticket-events.ts';
import {
  allocate,
  bulkGenerate,
  newPartner,
  newReseller,
  partnerHeaders,
  poolOf,
  type System,
  startSystem,
  waitFor,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let partner: string;
let resellerId: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  // Room for a 10,000 batch: the direct pool of 106 gives its 5,000 back to the product's capacity.
  await allocate(sys, { productId: 106, channel: 'direct', partnerId: null, allocated: 0 });
  partner = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 10_000 }]);
  await allocate(sys, { productId: 107, channel: 'reseller', partnerId: partner, allocated: 1_000 });
  resellerId = await newReseller(sys, ctx.config, partner, {
    name: 'Shanghai Travel',
    region: 'Shanghai',
    commission_rate: 0.1,
  });
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const headers = (extra: Record<string, string> = {}) => ({
  ...partnerHeaders(ctx.config, partner),
  ...extra,
});

async function batchTickets(batchId: string) {
  const { rows } = await sys.deps.pool.query<{
    n: number;
    codes: number;
    min: number;
    max: number;
    pre: number;
  }>(
    `SELECT count(*)::int AS n, count(DISTINCT ticket_code)::int AS codes, min(batch_seq) AS min,
       max(batch_seq) AS max, count(*) FILTER (WHERE status = 'PRE_GENERATED')::int AS pre
     FROM issuance.tickets WHERE batch_id = $1`,
    [batchId],
  );
  return rows[0]!;
}

describe('bulk generation', () => {
  it('refuses before queueing anything when the reseller pool is short, and checks the reseller', async () => {
    const short = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: headers(),
      payload: { product_id: 107, quantity: 1_001, reseller_id: resellerId },
    });
    expect(short.statusCode, short.body).toBe(409);
    expect(short.json().code).toBe('INSUFFICIENT_INVENTORY');
    const { rows } = await sys.deps.pool.query('SELECT 1 FROM issuance.batches WHERE product_id = 107');
    expect(rows).toHaveLength(0);
    expect((await poolOf(sys, partner, 107, 'reseller')).held).toBe(0);

    const foreignReseller = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: headers(),
      payload: { product_id: 107, quantity: 1, reseller_id: '00000000-0000-4000-8000-000000000000' },
    });
    expect(foreignReseller.statusCode).toBe(404);
    const tooMany = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: headers(),
      payload: { product_id: 107, quantity: 100_001, reseller_id: resellerId },
    });
    expect(tooMany.statusCode).toBe(400);
  });

  it('refuses a distribution over 4 KB or 32 keys with 400, holding nothing; the limits themselves pass', async () => {
    const post = (distribution: unknown) =>
      sys.issuance.inject({
        method: 'POST',
        url: '/api/ota/tickets/bulk-generate',
        headers: headers(),
        payload: { product_id: 108, quantity: 1, reseller_id: resellerId, distribution },
      });
    // Its own pool, so the other tests' counts on 106/107 are untouched.
    await allocate(sys, { productId: 108, channel: 'reseller', partnerId: partner, allocated: 10 });
    const heldBefore = (await poolOf(sys, partner, 108, 'reseller')).held;
    const batchesBefore = (await sys.deps.pool.query('SELECT 1 FROM issuance.batches')).rowCount;
    // The finding: a 963 KB object was accepted and echoed on every batch read.
    const huge = { notes: 'x'.repeat(963 * 1024) };
    const bigByBytes = { notes: 'x'.repeat(4096) };
    const manyKeys = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    const deep = { a: { b: { c: 'y'.repeat(4100) } } };
    for (const [name, distribution] of Object.entries({ huge, bigByBytes, manyKeys, deep })) {
      const res = await post(distribution);
      expect(res.statusCode, name).toBe(400);
      expect(res.json().code, name).toBe('VALIDATION_FAILED');
      expect(res.json().errors[0].path, name).toMatch(/^distribution/);
    }
    expect((await poolOf(sys, partner, 108, 'reseller')).held).toBe(heldBefore);
    expect((await sys.deps.pool.query('SELECT 1 FROM issuance.batches')).rowCount).toBe(batchesBefore);

    const atKeys = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, i]));
    const wrapper = Buffer.byteLength(JSON.stringify({ notes: '' }));
    const atBytes = { notes: 'z'.repeat(4096 - wrapper) };
    expect(Buffer.byteLength(JSON.stringify(atBytes))).toBe(4096);
    for (const distribution of [atKeys, atBytes]) {
      const res = await post(distribution);
      expect(res.statusCode, res.body).toBe(202);
      const batch = await sys.issuance.inject({
        url: `/api/ota/batches/${res.json().batch_id}`,
        headers: headers(),
      });
      expect(batch.json().distribution).toEqual(distribution);
    }
  });

  it('a 10,000 batch: held before 202, then exactly 10,000 distinct PRE_GENERATED codes, CSV included', async () => {
    const worker = startBatchWorker(ctx.config, sys.deps);
    try {
      const res = await sys.issuance.inject({
        method: 'POST',
        url: '/api/ota/tickets/bulk-generate',
        headers: headers(),
        payload: {
          product_id: 106,
          quantity: 10_000,
          reseller_id: resellerId,
          batch_reference: 'Q4-SHANGHAI',
          distribution: { region: 'Shanghai', notes: 'trade fair' },
        },
      });
      expect(res.statusCode, res.body).toBe(202);
      const accepted = res.json();
      expect(accepted).toMatchObject({
        status: 'QUEUED',
        quantity: 10_000,
        poll_url: `/api/ota/batches/${accepted.batch_id}`,
      });
      expect((await poolOf(sys, partner, 106, 'reseller')).held).toBeGreaterThanOrEqual(10_000);

      const done = await waitFor('batch completion', async () => {
        const b = await sys.issuance.inject({ url: accepted.poll_url, headers: headers() });
        const body = b.json();
        if (body.status === 'FAILED') throw new Error(body.error);
        return body.status === 'COMPLETED' ? body : undefined;
      });
      expect(done).toMatchObject({
        batch_id: accepted.batch_id,
        product_id: 106,
        quantity: 10_000,
        generated: 10_000,
        batch_reference: 'Q4-SHANGHAI',
        distribution: { region: 'Shanghai', notes: 'trade fair' },
        reseller: { reseller_id: resellerId, name: 'Shanghai Travel' },
        error: null,
      });
      const days = (Date.parse(done.expires_at) - Date.parse(done.created_at)) / 86_400_000;
      expect(days).toBeCloseTo(ctx.config.BATCH_TENTATIVE_DAYS, 3);
      expect(await batchTickets(accepted.batch_id)).toEqual({
        n: 10_000,
        codes: 10_000,
        min: 1,
        max: 10_000,
        pre: 10_000,
      });

      const csv = await sys.issuance.inject({ url: `${accepted.poll_url}/tickets.csv`, headers: headers() });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toContain('text/csv');
      const lines = csv.body.trim().split('\n');
      expect(lines[0]).toBe('batch_seq,ticket_code,status,created_at');
      expect(lines).toHaveLength(10_001);
      expect(new Set(lines.slice(1).map((l) => l.split(',')[1])).size).toBe(10_000);

      const list = await sys.issuance.inject({
        url: `/api/ota/tickets?batch_id=${accepted.batch_id}&page_size=5`,
        headers: headers(),
      });
      expect(list.json()).toMatchObject({ total: 10_000, has_more: true, total_is_lower_bound: false });
      expect(list.json().data).toHaveLength(5);

      const batches = await sys.issuance.inject({ url: '/api/ota/batches', headers: headers() });
      expect(batches.json().data.map((b: { batch_id: string }) => b.batch_id)).toContain(accepted.batch_id);
    } finally {
      await worker.close();
    }
  });

  it('an Idempotency-Key names the batch, so a repeat holds once and returns the same answer', async () => {
    const payload = { product_id: 107, quantity: 40, reseller_id: resellerId };
    const h = headers({ 'idempotency-key': 'bulk-key-1' });
    const first = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: h,
      payload,
    });
    const second = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: h,
      payload,
    });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect((await poolOf(sys, partner, 107, 'reseller')).held).toBe(40);
    const reused = await sys.issuance.inject({
      method: 'POST',
      url: '/api/ota/tickets/bulk-generate',
      headers: h,
      payload: { ...payload, quantity: 41 },
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');

    // Concurrent duplicates of a fresh key: one batch, one hold.
    const h2 = headers({ 'idempotency-key': 'bulk-key-2' });
    const racing = await Promise.all(
      Array.from({ length: 4 }, () =>
        sys.issuance.inject({ method: 'POST', url: '/api/ota/tickets/bulk-generate', headers: h2, payload }),
      ),
    );
    expect(racing.map((r) => r.statusCode)).toEqual([202, 202, 202, 202]);
    expect(new Set(racing.map((r) => r.json().batch_id)).size).toBe(1);
    expect((await poolOf(sys, partner, 107, 'reseller')).held).toBe(80);
  });

  it('a generation stopped after some chunks resumes in a fresh worker without duplicates or gaps', async () => {
    const batch_id = await bulkGenerate(sys, headers(), {
      product_id: 107,
      quantity: 450,
      reseller_id: resellerId,
    });
    // The first run dies after its third committed chunk of 50.
    await expect(
      generateBatch(sys.deps.pool, batch_id, {
        chunkSize: 50,
        onChunk: (n) => {
          if (n === 3) throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    const partial = await batchTickets(batch_id);
    expect(partial).toMatchObject({ n: 150, min: 1, max: 150 });
    const mid = await sys.issuance.inject({ url: `/api/ota/batches/${batch_id}`, headers: headers() });
    expect(mid.json()).toMatchObject({ status: 'RUNNING', generated: 150 });

    // A real BullMQ worker picks the job up and finishes from seq 151.
    const worker = startBatchWorker({ ...ctx.config, BATCH_CHUNK_SIZE: 100 }, sys.deps);
    try {
      const { Queue } = await import('bullmq');
      const { bullPrefix, createRedis } = await import('@cruise/shared');
      const connection = createRedis(ctx.config, 'blocking');
      const queue = new Queue('batch-generation', { connection, prefix: bullPrefix(ctx.config) });
      await queue.add('generate', { batch_id }, batchJobOptions(batch_id));
      await queue.close();
      connection.disconnect();
      await waitFor('resumed batch', async () => {
        const b = (
          await sys.issuance.inject({ url: `/api/ota/batches/${batch_id}`, headers: headers() })
        ).json();
        return b.status === 'COMPLETED' ? b : undefined;
      });
    } finally {
      await worker.close();
    }
    expect(await batchTickets(batch_id)).toEqual({ n: 450, codes: 450, min: 1, max: 450, pre: 450 });
  });

  it('two workers on one batch take turns chunk by chunk: exactly quantity tickets', async () => {
    const batch_id = await bulkGenerate(sys, headers(), {
      product_id: 107,
      quantity: 300,
      reseller_id: resellerId,
    });
    const results = await Promise.all([
      generateBatch(sys.deps.pool, batch_id, { chunkSize: 20 }),
      generateBatch(sys.deps.pool, batch_id, { chunkSize: 20 }),
      generateBatch(sys.deps.pool, batch_id, { chunkSize: 20 }),
    ]);
    expect(
      results.filter((r) => r === 'completed'),
      String(results),
    ).toHaveLength(1);
    expect(await batchTickets(batch_id)).toEqual({ n: 300, codes: 300, min: 1, max: 300, pre: 300 });
    expect(await generateNextChunk(sys.deps.pool, batch_id, 20)).toBe('finished-already');
  });

  it('emits one compact tickets.generated event per chunk, valid for the catalog, announcing every ticket once', async () => {
    const { rows: envelopes } = await sys.deps.pool.query<{ envelope: unknown; bytes: number }>(
      `SELECT envelope, octet_length(envelope::text) AS bytes FROM issuance.outbox
        WHERE subject = 'events.issuance.tickets.generated' ORDER BY id`,
    );
    expect(envelopes.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    let announced = 0;
    for (const { envelope, bytes } of envelopes) {
      const e = eventEnvelope.parse(envelope);
      expect(e.type).toBe('tickets.generated');
      const data = events.ticketsGenerated.data.parse(e.data);
      expect(data.ticket).toMatchObject({
        status: 'PRE_GENERATED',
        channel: 'reseller',
        partner_id: partner,
        revision: 0,
      });
      expect(data.ticket.created_at).toBe(new Date(data.ticket.created_at).toISOString());
      expect(data.ticket_codes.length).toBeLessThanOrEqual(GENERATED_CODES_MAX);
      // A code costs some 27 bytes: the 2,000-ticket chunks here are ~55 kB, not ~700 kB of snapshots.
      expect(bytes).toBeLessThan(1_000 + 30 * data.ticket_codes.length);
      const { rows: stored } = await sys.deps.pool.query<{
        ticket_code: string;
        created_at: Date;
        entitlements: unknown;
        product_id: number;
      }>(
        'SELECT ticket_code, created_at, entitlements, product_id FROM issuance.tickets WHERE ticket_code = ANY($1)',
        [data.ticket_codes],
      );
      expect(stored).toHaveLength(data.ticket_codes.length); // every code is a ticket of that chunk…
      for (const t of stored) {
        expect(t.created_at.toISOString()).toBe(data.ticket.created_at);
        expect(t.entitlements).toEqual(data.ticket.entitlements);
        expect(t.product_id).toBe(data.ticket.product_id);
      }
      for (const code of data.ticket_codes) seen.add(code);
      announced += data.ticket_codes.length;
    }
    const { rows: all } = await sys.deps.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM issuance.tickets WHERE channel = 'reseller'",
    );
    expect(seen.size).toBe(all[0]!.n); // every generated ticket announced…
    expect(announced).toBe(seen.size); // …exactly once
    expect(announced).toBeGreaterThanOrEqual(10_000 + 450 + 300);
  });
});
