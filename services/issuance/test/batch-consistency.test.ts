// Batch reads agree with `completed_at`: a poll that starts after the batch's completed_at never reads
// QUEUED or RUNNING. Polls hammer GET /api/ota/batches/{id} while the worker writes a single-chunk
// batch (QUEUED → COMPLETED in one transaction). Before the fix `completed_at` was the chunk's
// transaction start, so every poll during the chunk started "after completion" and still read QUEUED.
import { createTestContext, type TestContext } from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateBatch } from '../src/domain/batches.ts';
import {
  allocate,
  bulkGenerate,
  newPartner,
  newReseller,
  partnerHeaders,
  type System,
  startSystem,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let partner: string;
let resellerId: string;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  await allocate(sys, { productId: 106, channel: 'direct', partnerId: null, allocated: 0 });
  partner = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 10_000 }]);
  resellerId = await newReseller(sys, ctx.config, partner, { name: 'Polling Reseller' });
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

it('no poll that starts after completed_at reads QUEUED or RUNNING', async () => {
  const polls: { startedAt: number; status: string }[] = [];
  for (let round = 0; round < 3; round++) {
    const batch_id = await bulkGenerate(sys, partnerHeaders(ctx.config, partner), {
      product_id: 106,
      quantity: 3_000,
      reseller_id: resellerId,
    });
    let generating = true;
    const poller = (async () => {
      const seen: { startedAt: number; status: string }[] = [];
      while (generating) {
        const startedAt = Date.now();
        const res = await sys.issuance.inject({
          method: 'GET',
          url: `/api/ota/batches/${batch_id}`,
          headers: partnerHeaders(ctx.config, partner),
        });
        seen.push({ startedAt, status: res.json().status });
      }
      return seen;
    })();
    // One chunk: the whole batch is QUEUED until the single transaction commits COMPLETED.
    await generateBatch(sys.deps.pool, batch_id, { chunkSize: 3_000 });
    // A few more polls after the commit, then stop.
    await new Promise((r) => setTimeout(r, 50));
    generating = false;
    const seen = await poller;
    const { rows } = await sys.deps.pool.query<{ completed_at: Date }>(
      'SELECT completed_at FROM issuance.batches WHERE batch_id = $1',
      [batch_id],
    );
    const completedAt = rows[0]!.completed_at.getTime();
    expect(
      seen.some((p) => p.status === 'QUEUED'),
      'some polls ran while the chunk was written',
    ).toBe(true);
    polls.push(...seen.filter((p) => p.startedAt > completedAt));
    // Every poll that started after completed_at saw the batch completed.
    const stale = seen.filter((p) => p.startedAt > completedAt && p.status !== 'COMPLETED');
    expect(stale, `polls after completed_at ${new Date(completedAt).toISOString()}`).toEqual([]);
  }
  expect(polls.length).toBeGreaterThan(0);
});
