// The `batch-generation` queue's work (a manifest worker; bulk-generate enqueues a job per batch): runs
// the domain's resumable generation. A bad payload or an unknown batch is not retried; anything else
// backs off and resumes from the last committed chunk; the final failure marks the batch FAILED.
import {
  bullHandshakes,
  bullPrefix,
  type Config,
  closeRedis,
  createRedis,
  jobSchemas,
  type Logger,
  type Pool,
  QUEUES,
  type ServiceDeps,
} from '@cruise/shared';
import { DelayedError, type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import { table } from '../db/tables.ts';
import { generateBatch, markBatchFailed } from '../domain/batches.ts';
import type { IssuanceMetrics } from '../metrics.ts';

export const BATCH_JOB_ATTEMPTS = 5;
/** A progress line at most this often (a million-ticket batch writes 500 chunks). */
const PROGRESS_LOG_MS = 5_000;

export function batchGenerationProcessor(
  pool: Pool,
  config: Pick<Config, 'BATCH_CHUNK_SIZE'>,
  log: Logger,
  /** True once the worker is shutting down: the job is handed back between two chunks. */
  stopping: () => boolean = () => false,
  metrics?: IssuanceMetrics,
) {
  return async (job: Job, token: string | undefined = job.token) => {
    const parsed = jobSchemas[QUEUES.batchGeneration].safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`bad batch-generation payload: ${parsed.error.message}`);
    const { batch_id } = parsed.data;
    const progress = await batchProgress(pool, batch_id);
    if (progress) {
      log.info(
        {
          batch_id,
          quantity: progress.quantity,
          generated: progress.generated,
          attempt: job.attemptsMade + 1,
        },
        progress.generated > 0 ? 'batch generation resumed' : 'batch generation started',
      );
    }
    const startedAt = Date.now();
    let lastLog = startedAt;
    let generated = progress?.generated ?? 0;
    const advance = (to: number) => {
      const written = Math.max(0, to - generated);
      metrics?.batchTicketsGenerated.inc(written);
      metrics?.ticketsIssued.inc({ channel: 'reseller' }, written);
      generated = to;
    };
    const result = await generateBatch(pool, batch_id, {
      chunkSize: config.BATCH_CHUNK_SIZE,
      onChunk: async (chunk) => {
        // Every chunk but the last is full, so the count is known without reading the batch again.
        if (progress)
          advance(Math.min(progress.quantity, progress.generated + chunk * config.BATCH_CHUNK_SIZE));
        if (progress && Date.now() - lastLog >= PROGRESS_LOG_MS) {
          lastLog = Date.now();
          const rate = (generated - progress.generated) / ((lastLog - startedAt) / 1000);
          log.info(
            { batch_id, generated, quantity: progress.quantity, per_second: Math.round(rate) },
            `batch progress ${generated}/${progress.quantity}`,
          );
        }
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
    const finished = await batchProgress(pool, batch_id);
    if (result === 'completed' && finished) {
      advance(finished.generated);
      if (finished.completed_at) {
        metrics?.batchDuration.observe(
          (finished.completed_at.getTime() - finished.created_at.getTime()) / 1000,
        );
      }
    }
    const seconds = (Date.now() - startedAt) / 1000;
    log.info(
      {
        batch_id,
        result,
        generated: finished?.generated,
        quantity: finished?.quantity,
        seconds: Math.round(seconds * 10) / 10,
        per_second: finished
          ? Math.round((finished.generated - (progress?.generated ?? 0)) / seconds)
          : undefined,
      },
      'batch generation finished',
    );
    return result;
  };
}

async function batchProgress(pool: Pool, batchId: string) {
  const { rows } = await pool.query<{
    quantity: number;
    generated: number;
    created_at: Date;
    completed_at: Date | null;
  }>(`SELECT quantity, generated, created_at, completed_at FROM ${table.batches} WHERE batch_id = $1`, [
    batchId,
  ]);
  return rows[0];
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
      await bullHandshakes([worker]);
      await worker.close(force);
      await closeRedis(connection);
    },
  };
}
