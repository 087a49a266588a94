// @cruise/client against the real services as processes: typed calls, problem+json as ApiError, an
// Idempotency-Key on creates that makes a retried create safe, the batch poller (progress, Retry-After),
// the CSV stream, and the payment signer the server accepts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiError,
  type BatchProgress,
  createCruiseClient,
  csvRowCounter,
  downloadBatchCsv,
  signPayment,
  unwrap,
  waitForBatch,
} from '@cruise/client';
import { saveBatchCsv } from '@cruise/client/node';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  operator,
  type Partner,
  type System,
  seedCatalogue,
  startSystem,
  visitDate,
} from '../resilience/system.ts';

let ctx: TestContext;
let system: System;
let acme: Partner;
let resellerId: string;
let dir: string;

beforeAll(async () => {
  ctx = await createTestContext();
  await seedCatalogue(ctx.config.DATABASE_URL);
  system = await startSystem({
    databaseUrl: ctx.config.DATABASE_URL,
    redisUrl: ctx.config.REDIS_URL,
    natsUrl: ctx.config.NATS_URL,
    prefix: ctx.id,
    env: { BATCH_CHUNK_SIZE: '50' },
  });
  const op = operator(system);
  acme = await op.createPartner('Client Travel', 1000);
  await op.allocate(acme.partner_id, 106, 'ota', 20);
  await op.allocate(acme.partner_id, 106, 'reseller', 1000);
  const reseller = await unwrap(
    partnerClient().POST('/api/ota/resellers', {
      body: {
        name: 'Shanghai Seller',
        contact_email: 'ops@seller.example',
        region: 'Shanghai',
        commission_rate: 0.1,
      },
    }),
  );
  resellerId = reseller.reseller_id;
  dir = await mkdtemp(path.join(tmpdir(), 'cruise-client-'));
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await ctx?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const partnerClient = (opts: { fetch?: (r: Request) => Promise<Response> } = {}) =>
  createCruiseClient({ baseUrl: system.gateway, token: acme.api_key, ...opts });

const reserveBody = (quantity: number) => ({
  product_id: 106,
  visit_date: visitDate(3),
  items: [{ customer_type: 'adult', quantity }],
});

async function heldOta(): Promise<number> {
  const inv = await unwrap(partnerClient().GET('/api/ota/inventory', {}));
  return inv.products.find((p) => p.product_id === 106)!.channels.ota.held;
}

describe('@cruise/client', () => {
  it('reads typed data and turns problem+json into an ApiError', async () => {
    const api = partnerClient();
    const inv = await unwrap(
      api.GET('/api/ota/inventory', { params: { query: { visit_date: visitDate(3) } } }),
    );
    expect(inv.products.map((p) => p.product_id)).toEqual([106, 107, 108]);

    const badKey = createCruiseClient({ baseUrl: system.gateway, token: 'ck_live_not-a-key' });
    const refused = await unwrap(badKey.GET('/api/ota/inventory', {})).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect((refused as ApiError).request_id).toBeTruthy();

    const invalid = await unwrap(
      api.POST('/api/ota/reservations', {
        body: { ...reserveBody(1), items: [{ customer_type: 'adult', quantity: 0 }] },
      }),
    ).catch((e: unknown) => e as ApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((invalid as ApiError).errors.map((e) => e.path)).toContain('items.0.quantity');
    expect((invalid as ApiError).describe()).toMatch(/^VALIDATION_FAILED \(400\) · .*items\.0\.quantity/);
  });

  it('sends an Idempotency-Key on creates, so a create whose answer was lost is retried without a second hold', async () => {
    const before = await heldOta();
    const sentKeys: (string | null)[] = [];
    let lost = 0;
    // The network drops the first answer after the server has acted on the request.
    const lossyNetwork = async (request: Request) => {
      sentKeys.push(request.headers.get('idempotency-key'));
      const response = await fetch(request);
      if (request.method === 'POST' && lost++ === 0) {
        await response.body?.cancel();
        throw new TypeError('fetch failed (connection reset)');
      }
      return response;
    };
    const reservation = await unwrap(
      partnerClient({ fetch: lossyNetwork }).POST('/api/ota/reservations', { body: reserveBody(2) }),
    );
    expect(reservation.status).toBe('ON_HOLD');
    const posts = sentKeys.slice(0, 2);
    expect(posts).toHaveLength(2);
    expect(posts[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[1]).toBe(posts[0]);
    expect(await heldOta()).toBe(before + 2);

    // Control: the same lost answer and retry without a key holds twice.
    const raw = () =>
      fetch(`${system.gateway}/api/ota/reservations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acme.api_key}`, 'content-type': 'application/json' },
        body: JSON.stringify(reserveBody(2)),
      });
    await (await raw()).body?.cancel();
    await (await raw()).body?.cancel();
    expect(await heldOta()).toBe(before + 6);

    // A key the caller chooses wins over the generated one.
    const api = partnerClient();
    const once = await unwrap(
      api.POST('/api/ota/reservations', {
        body: reserveBody(1),
        params: { header: { 'idempotency-key': 'k-1' } },
      }),
    );
    const twice = await unwrap(
      api.POST('/api/ota/reservations', {
        body: reserveBody(1),
        params: { header: { 'idempotency-key': 'k-1' } },
      }),
    );
    expect(twice.reservation_id).toBe(once.reservation_id);
    expect(await heldOta()).toBe(before + 7);
  });

  it('polls a batch to COMPLETED with progress, then streams its CSV', async () => {
    const api = partnerClient();
    const accepted = await unwrap(
      api.POST('/api/ota/tickets/bulk-generate', {
        body: { product_id: 106, quantity: 600, reseller_id: resellerId },
      }),
    );
    const seen: BatchProgress[] = [];
    const done = await waitForBatch(api, accepted.batch_id, {
      intervalMs: 50,
      onProgress: (p) => seen.push(p),
    });
    expect(done).toMatchObject({ status: 'COMPLETED', generated: 600, quantity: 600 });
    expect(seen.at(-1)).toMatchObject({ generated: 600, quantity: 600, etaSeconds: 0 });
    const generated = seen.map((p) => p.generated);
    expect(generated).toEqual([...generated].sort((a, b) => a - b));
    // The rate is known once two polls have seen the count move.
    const moving = seen.filter((p) => p.rate !== null);
    if (new Set(generated).size > 1) expect(moving.length).toBeGreaterThan(0);
    for (const p of moving) expect(p.rate).toBeGreaterThan(0);

    let rows = 0;
    const { body, response } = await downloadBatchCsv(api, accepted.batch_id);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const text = await new Response(body.pipeThrough(csvRowCounter((n) => (rows = n)))).text();
    const lines = text.trim().split('\n');
    expect(rows).toBe(600);
    expect(lines).toHaveLength(601);
    const file = path.join(dir, 'batch.csv');
    const saved = await saveBatchCsv(api, accepted.batch_id, file);
    expect(saved.rows).toBe(600);
    expect(await readFile(file, 'utf8')).toBe(text);

    const missing = await downloadBatchCsv(api, '00000000-0000-4000-8000-000000000000').catch((e) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('waits out a 429 for as long as Retry-After says, then goes on polling', async () => {
    const op = operator(system);
    const slow = await op.createPartner('Slow Poller', 2);
    await op.allocate(slow.partner_id, 107, 'reseller', 10);
    const asked: { at: number; status: number; retryAfter: number | null }[] = [];
    const api = createCruiseClient({
      baseUrl: system.gateway,
      token: slow.api_key,
      fetch: async (request) => {
        const response = await fetch(request);
        const retryAfter = response.headers.get('retry-after');
        asked.push({
          at: Date.now(),
          status: response.status,
          retryAfter: retryAfter ? Number(retryAfter) : null,
        });
        return response;
      },
    });
    // Requests 1 and 2 of the 2 this minute; the first poll is refused.
    const reseller = await unwrap(
      api.POST('/api/ota/resellers', {
        body: {
          name: 'Slow Seller',
          contact_email: 'slow@seller.example',
          region: 'Pudong',
          commission_rate: 0,
        },
      }),
    );
    const accepted = await unwrap(
      api.POST('/api/ota/tickets/bulk-generate', {
        body: { product_id: 107, quantity: 5, reseller_id: reseller.reseller_id },
      }),
    );
    const done = await waitForBatch(api, accepted.batch_id, { intervalMs: 10 });
    expect(done.status).toBe('COMPLETED');
    const refusals = asked.filter((a) => a.status === 429);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal.retryAfter).toBeGreaterThan(0);
      const next = asked[asked.indexOf(refusal) + 1]!;
      expect(next.at - refusal.at).toBeGreaterThanOrEqual(refusal.retryAfter! * 1000);
    }
  }, 180_000);

  it('signs a payment notification the server accepts, and the server refuses a tampered one', async () => {
    const api = partnerClient();
    const reservation = await unwrap(api.POST('/api/ota/reservations', { body: reserveBody(1) }));
    const raw = JSON.stringify({
      payment_id: `pay_client_${reservation.reservation_id}`,
      reservation_id: reservation.reservation_id,
      status: 'SUCCEEDED',
      amount: reservation.total,
      paid_at: new Date().toISOString(),
    });
    const notify = (body: string, signature: string) =>
      fetch(`${system.gateway}/payments/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-payment-signature': signature },
        body,
      });
    const forged = await notify(
      raw.replace('SUCCEEDED', 'SUCCEEDED '),
      signPayment(system.secrets.webhookSecret, raw),
    );
    expect(forged.status).toBe(401);
    const paid = await notify(raw, signPayment(system.secrets.webhookSecret, raw));
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ reservation_status: 'CONFIRMED' });
  });
});
