// BullMQ processor of the `batch-expiry` queue (run by a job scheduler): expires pre-generated
// tickets past their tentative period, sends pending pool releases, and re-enqueues batches whose
// generation job was lost between the request's commit and its enqueue; and purges old rows.
import type { CommandClient, Logger, Pool } from '@cruise/shared';
import { jobSchemas, purgeIdempotencyKeys, QUEUES } from '@cruise/shared';
import { type Job, UnrecoverableError } from 'bullmq';
import { expireDueBatches } from '../domain/batch-expiry.ts';
import { unfinishedBatchIds } from '../domain/batches.ts';
import { flushPendingReleases } from '../domain/pool-releases.ts';

export function batchExpiryProcessor(deps: {
  pool: Pool;
  inventory: CommandClient;
  log: Logger;
  enqueueBatch: (batchId: string) => Promise<void>;
}) {
  return async (job: Job) => {
    if (!jobSchemas[QUEUES.batchExpiry].safeParse(job.data).success) {
      throw new UnrecoverableError('bad batch-expiry payload');
    }
    const expired = await expireDueBatches(deps.pool, new Date());
    const released = await flushPendingReleases(deps.pool, deps.inventory, deps.log);
    // Enqueueing is idempotent (job id = batch id), so a batch whose job is alive is untouched.
    const stranded = await unfinishedBatchIds(deps.pool, 60);
    for (const id of stranded) await deps.enqueueBatch(id);
    // Housekeeping: replayable responses are kept 48 h (the contract promises 24 h); published
    // outbox rows a day (JetStream's duplicate window is 10 minutes).
    await purgeIdempotencyKeys(deps.pool, 'issuance', 48);
    await deps.pool.query(
      `DELETE FROM "issuance".outbox WHERE published_at IS NOT NULL AND published_at < now() - interval '1 day'`,
    );
    return { expired, released, requeued: stranded.length };
  };
}
