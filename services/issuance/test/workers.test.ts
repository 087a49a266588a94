// The workers as the app runs them (RUN_WORKERS, the manifest's worker and job): batches generate from
// the queue, the batch-expiry scheduler expires tickets past their tentative period and sends their
// releases, re-enqueues a batch whose job was lost between the request's commit and its enqueue, and a
// job that fails for good marks its batch FAILED and gives its units back.

import { randomUUID } from 'node:crypto';
import { bullPrefix, createCommandClient, createRedis, QUEUES, withTransaction } from '@cruise/shared';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBatch } from '../src/domain/batches.ts';
import {
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
  ctx = await createTestContext({ RUN_WORKERS: 'true', EXPIRY_SWEEP_SECONDS: '1', BATCH_CHUNK_SIZE: '20' });
  sys = await startSystem(ctx.config);
  partner = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 200 }]);
  resellerId = await newReseller(sys, ctx.config, partner, { name: 'R' });
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const status = async (batchId: string) =>
  (await sys.deps.pool.query('SELECT status FROM issuance.batches WHERE batch_id = $1', [batchId])).rows[0]
    ?.status;

it('generates from the queue, then the scheduler expires the batch past its period and releases the units', async () => {
  const batch_id = await bulkGenerate(sys, partnerHeaders(ctx.config, partner), {
    product_id: 106,
    quantity: 50,
    reseller_id: resellerId,
  });
  await waitFor('completed', async () => ((await status(batch_id)) === 'COMPLETED' ? true : undefined));
  expect((await poolOf(sys, partner, 106, 'reseller')).held).toBe(50);

  // The tentative period ends (days are the configuration's unit; move the end instead of waiting).
  await sys.deps.pool.query(
    `UPDATE issuance.batches SET expires_at = now() - interval '1 second' WHERE batch_id = $1`,
    [batch_id],
  );
  await waitFor('expired and released', async () => {
    const { rows } = await sys.deps.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'EXPIRED')::int AS n FROM issuance.tickets WHERE batch_id = $1`,
      [batch_id],
    );
    const held = (await poolOf(sys, partner, 106, 'reseller')).held;
    return rows[0].n === 50 && held === 0 ? true : undefined;
  });
});

it('re-enqueues a batch whose job was never enqueued (crash between commit and enqueue)', async () => {
  const batchId = randomUUID();
  const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
  await withTransaction(sys.deps.pool, (client) =>
    createBatch(client, inventory, {
      partnerId: partner,
      batchId,
      body: { product_id: 106, quantity: 30, reseller_id: resellerId },
      tentativeDays: 30,
    }),
  );
  // Old enough for the sweep to consider it stranded.
  await sys.deps.pool.query(
    `UPDATE issuance.batches SET created_at = now() - interval '2 minutes' WHERE batch_id = $1`,
    [batchId],
  );
  await waitFor('recovered', async () => ((await status(batchId)) === 'COMPLETED' ? true : undefined));
  const { rows } = await sys.deps.pool.query(
    'SELECT count(*)::int AS n FROM issuance.tickets WHERE batch_id = $1',
    [batchId],
  );
  expect(rows[0].n).toBe(30);
});

it("a job that fails for good marks its batch FAILED (the worker's failed hook) and returns the units", async () => {
  const batchId = randomUUID();
  const inventory = createCommandClient(sys.deps.nc, ctx.config.NATS_PREFIX, 5_000);
  const heldBefore = (await poolOf(sys, partner, 106, 'reseller')).held;
  await withTransaction(sys.deps.pool, (client) =>
    createBatch(client, inventory, {
      partnerId: partner,
      batchId,
      body: { product_id: 106, quantity: 10, reseller_id: resellerId },
      tentativeDays: 30,
    }),
  );
  expect((await poolOf(sys, partner, 106, 'reseller')).held).toBe(heldBefore + 10);
  // Every insert of this batch's tickets now fails (this file's own database; removed below).
  await sys.deps.pool.query(
    `ALTER TABLE issuance.tickets ADD CONSTRAINT test_refuse_batch CHECK (batch_id IS DISTINCT FROM '${batchId}')`,
  );
  const connection = createRedis(ctx.config, 'blocking');
  const queue = new Queue(QUEUES.batchGeneration, { connection, prefix: bullPrefix(ctx.config) });
  try {
    await queue.add('generate', { batch_id: batchId }, { jobId: batchId, attempts: 2, backoff: 100 });
    await waitFor('failed', async () => ((await status(batchId)) === 'FAILED' ? true : undefined));
    const { rows } = await sys.deps.pool.query('SELECT error FROM issuance.batches WHERE batch_id = $1', [
      batchId,
    ]);
    expect(rows[0].error).toMatch(/test_refuse_batch/);
    // The units never written go back (sent by the sweep, every second here).
    await waitFor('released', async () =>
      (await poolOf(sys, partner, 106, 'reseller')).held === heldBefore ? true : undefined,
    );
  } finally {
    await sys.deps.pool.query('ALTER TABLE issuance.tickets DROP CONSTRAINT IF EXISTS test_refuse_batch');
    await queue.close();
    connection.disconnect();
  }
});
