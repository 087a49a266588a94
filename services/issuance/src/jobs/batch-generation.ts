// The `batch-generation` queue's work (a manifest worker; bulk-generate enqueues a job per batch): runs
// the domain's resumable generation. A bad payload or an unknown batch is not retried; anything else
// backs off and resumes from the last committed chunk; the final failure marks the batch FAILED.
import {
  bullPrefix,
  type Config,
  createRedis,
  jobSchemas,
  type Logger,
  type Pool,
  QUEUES,
  type ServiceDeps,
} from '@cruise/shared';
import { DelayedError, type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import { generateBatch, markBatchFailed } from '../domain/batches.ts';

export const BATCH_JOB_ATTEMPTS = 5;

export function batchGenerationProcessor(
  pool: Pool,
  config: Pick<Config, 'BATCH_CHUNK_SIZE'>,
  log: Logger,
  /** True once the worker is shutting down: the job is handed back between two chunks. */
  stopping: () => boolean = () => false,
) {
  return async (job: Job, token: string | undefined = job.token) => {
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

/** A batch's generation job; the job id is the batch id, so adding it twice is a no-op. */
export function batchJobOptions(batchId: string) {
  return {
    jobId: batchId,
    attempts: BATCH_JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: 1_000,
  };
}

/**
 * A batch-generation worker on its own, outside a service's manifest: for tests that kill a worker and
 * start another (with a short `stalledInterval`), or run generation apart from the HTTP app. The same
 * processor and failure hook as the manifest's worker.
 */
export function startBatchWorker(
  config: Config,
  deps: Pick<ServiceDeps, 'pool' | 'log'>,
  tuning: Pick<WorkerOptions, 'stalledInterval' | 'lockDuration'> = {},
) {
  const connection = createRedis(config, 'blocking');
  let stopping = false;
  const processor = batchGenerationProcessor(deps.pool, config, deps.log, () => stopping);
  const worker = new Worker(QUEUES.batchGeneration, (job, token) => processor(job, token), {
    connection,
    prefix: bullPrefix(config),
    concurrency: config.BATCH_WORKER_CONCURRENCY,
    ...tuning,
  });
  worker.on('failed', (job, err) => {
    void onBatchJobFailed(deps.pool, job, err, deps.log).catch((e) =>
      deps.log.error({ err: e }, 'could not mark batch failed'),
    );
  });
  worker.on('error', (err) => deps.log.warn({ err }, 'batch worker error'));
  return {
    worker,
    async close(force = false) {
      stopping = true;
      await worker.close(force);
      connection.disconnect();
    },
  };
}
