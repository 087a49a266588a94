// The `batch-expiry` sweep (a manifest job: one scheduler, every EXPIRY_SWEEP_SECONDS): expires
// pre-generated tickets past their tentative period, sends pending pool releases, re-enqueues batches
// whose generation job was lost between the request's commit and its enqueue, and purges old rows.
// Queue and scheduler keep their live names.
import { purgePublishedOutbox, purgeReplies, QUEUES } from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { idempotencyKeys, issuanceSchema } from '../db/schema/index.ts';
import { expireDueBatches } from '../domain/batch-expiry.ts';
import { unfinishedBatchIds } from '../domain/batches.ts';
import { flushPendingReleases } from '../domain/pool-releases.ts';

export const BATCH_EXPIRY_SCHEDULER_ID = 'batch-expiry-sweep';
export const BATCH_EXPIRY_QUEUE = QUEUES.batchExpiry;

export async function sweepBatches(ctx: IssuanceContext) {
  const expired = await expireDueBatches(ctx.pool, new Date());
  const released = await flushPendingReleases(ctx.pool, ctx.inventory, ctx.log);
  // Enqueueing is idempotent (job id = batch id), so a batch whose job is alive is untouched.
  const stranded = await unfinishedBatchIds(ctx.pool, 60);
  for (const id of stranded) await ctx.enqueueBatch(id);
  // Housekeeping: replayable responses are kept 48 h (the contract promises 24 h); published
  // outbox rows a day (JetStream's duplicate window is 10 minutes).
  await purgeReplies(ctx.pool, idempotencyKeys);
  await purgePublishedOutbox(ctx.pool, issuanceSchema.schemaName, 24);
  return { expired, released, requeued: stranded.length };
}
