// BullMQ processor of the `batch-generation` queue: parses the job against the catalog and runs the
// domain's resumable generation. A bad payload or an unknown batch is not retried; anything else
// backs off and resumes from the last committed chunk; the final failure marks the batch FAILED.
import { type Config, jobSchemas, type Logger, type Pool, QUEUES } from '@cruise/shared';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { generateBatch, markBatchFailed } from '../domain/batches.ts';

export const BATCH_JOB_ATTEMPTS = 5;

export function batchGenerationProcessor(
  pool: Pool,
  config: Pick<Config, 'BATCH_CHUNK_SIZE'>,
  log: Logger,
  /** True once the worker is shutting down: the job is handed back between two chunks. */
  stopping: () => boolean = () => false,
) {
  return async (job: Job, token?: string) => {
    const parsed = jobSchemas[QUEUES.batchGeneration].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`bad batch-generation payload: ${parsed.error.message}`);
    const { batch_id } = parsed.data;
    const result = await generateBatch(pool, batch_id, {
      chunkSize: config.BATCH_CHUNK_SIZE,
      onChunk: async (chunk) => {
        await job.updateProgress(chunk).catch(() => {});
        if (stopping()) {
          // Graceful shutdown: back to the queue at once (no attempt used); the next worker resumes
          // after the last committed chunk instead of this process finishing a million tickets first.
          await job.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
      },
    });
    if (result === 'missing') throw new UnrecoverableError(`batch ${batch_id} does not exist`);
    log.info({ batch_id, result }, 'batch generation finished');
    return result;
  };
}

/** After the last attempt (or an unrecoverable error) the batch is marked FAILED with the reason. */
export async function onBatchJobFailed(pool: Pool, job: Job | undefined, err: Error, log: Logger) {
  if (!job) return;
  const finalAttempt = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
  if (!finalAttempt) return;
  const parsed = jobSchemas[QUEUES.batchGeneration].safeParse(job.data);
  if (!parsed.success) return;
  log.error({ batch_id: parsed.data.batch_id, err }, 'batch generation failed for good');
  await markBatchFailed(pool, parsed.data.batch_id, err.message);
}
