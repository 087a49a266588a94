// A batch-generation worker process killed (SIGKILL) mid-batch: after its job's lock lapses another
// worker picks the job up and finishes from the last committed chunk — no duplicate, no gap.
import {
  createTestContext,
  freePort,
  type RunningService,
  startService,
  type TestContext,
} from '@cruise/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBatchWorker } from '../src/app.ts';
import {
  allocate,
  bulkGenerate,
  newPartner,
  newReseller,
  partnerHeaders,
  type System,
  startSystem,
  waitFor,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let worker: RunningService | undefined;

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false', BATCH_CHUNK_SIZE: '100' });
  sys = await startSystem(ctx.config);
});
afterAll(async () => {
  await worker?.kill();
  await sys?.close();
  await ctx?.cleanup();
});

async function progress(batchId: string) {
  const { rows } = await sys.deps.pool.query<{ generated: number; status: string }>(
    'SELECT generated, status FROM issuance.batches WHERE batch_id = $1',
    [batchId],
  );
  return rows[0]!;
}

it('a worker process killed mid-batch: the batch completes elsewhere with exactly quantity tickets', async () => {
  await allocate(sys, { productId: 106, channel: 'direct', partnerId: null, allocated: 0 });
  const partner = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 10_000 }]);
  const headers = partnerHeaders(ctx.config, partner);
  const resellerId = await newReseller(sys, ctx.config, partner);
  const batch_id = await bulkGenerate(sys, headers, {
    product_id: 106,
    quantity: 10_000,
    reseller_id: resellerId,
  });

  // The job waits in Redis; a real issuance process with workers takes it.
  worker = await startService(
    'issuance',
    { ...ctx.env, RUN_WORKERS: 'true', BATCH_WORKER_CONCURRENCY: '1' },
    {
      port: await freePort(),
    },
  );
  await waitFor(
    'some chunks',
    async () => ((await progress(batch_id)).generated >= 300 ? true : undefined),
    60_000,
  );
  await worker.kill();
  worker = undefined;
  const atKill = await progress(batch_id);
  expect(atKill.status).toBe('RUNNING'); // killed part-way, not after the end
  expect(atKill.generated).toBeLessThan(10_000);

  // A fresh worker: the dead one's job is recovered once its lock lapses (BullMQ stalled-job check).
  const fresh = startBatchWorker(ctx.config, sys.deps, { stalledInterval: 1_000 });
  try {
    await waitFor(
      'completion after the crash',
      async () => ((await progress(batch_id)).status === 'COMPLETED' ? true : undefined),
      110_000,
    );
  } finally {
    await fresh.close();
  }
  const { rows } = await sys.deps.pool.query(
    `SELECT count(*)::int AS n, count(DISTINCT ticket_code)::int AS codes, min(batch_seq) AS min, max(batch_seq) AS max,
       count(*) FILTER (WHERE status = 'PRE_GENERATED')::int AS pre
     FROM issuance.tickets WHERE batch_id = $1`,
    [batch_id],
  );
  expect(rows[0]).toEqual({ n: 10_000, codes: 10_000, min: 1, max: 10_000, pre: 10_000 });
  expect((await progress(batch_id)).generated).toBe(10_000);
}, 180_000);

it('a worker shut down gracefully hands its batch back between chunks; the next one resumes it', async () => {
  const partner = await newPartner(sys, [{ productId: 107, channel: 'reseller', allocated: 5_000 }]);
  const headers = partnerHeaders(ctx.config, partner);
  const resellerId = await newReseller(sys, ctx.config, partner);
  const batch_id = await bulkGenerate(sys, headers, {
    product_id: 107,
    quantity: 5_000,
    reseller_id: resellerId,
  });
  const first = startBatchWorker(ctx.config, sys.deps);
  await waitFor('some chunks', async () => ((await progress(batch_id)).generated >= 200 ? true : undefined));
  await first.close(); // returns after the current chunk, not after 5,000 tickets
  const atStop = await progress(batch_id);
  expect(atStop).toMatchObject({ status: 'RUNNING' });
  expect(atStop.generated).toBeLessThan(5_000);

  const second = startBatchWorker(ctx.config, sys.deps);
  try {
    await waitFor('resumed', async () =>
      (await progress(batch_id)).status === 'COMPLETED' ? true : undefined,
    );
  } finally {
    await second.close();
  }
  const { rows } = await sys.deps.pool.query(
    `SELECT count(*)::int AS n, count(DISTINCT ticket_code)::int AS codes, max(batch_seq) AS max
     FROM issuance.tickets WHERE batch_id = $1`,
    [batch_id],
  );
  expect(rows[0]).toEqual({ n: 5_000, codes: 5_000, max: 5_000 });
});
