// Retention: a BullMQ job scheduler (hourly, one entry however many instances) deletes events older
// than EVENT_RETENTION_DAYS (≥ 30), finished deliveries as old, and Idempotency-Key records past 48 h.
import {
  bullPrefix,
  type Config,
  createRedis,
  jobSchemas,
  type Logger,
  type Pool,
  purgeIdempotencyKeys,
  QUEUES,
} from '@cruise/shared';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { purgeOldEvents } from '../domain/event-store.ts';

export const RETENTION_SCHEDULER_ID = 'event-retention-purge';

export function startEventRetentionWorker(config: Config, pool: Pool, log: Logger) {
  const prefix = bullPrefix(config);
  const queueConnection = createRedis(config, 'blocking');
  const workerConnection = createRedis(config, 'blocking');
  const queue = new Queue(QUEUES.eventRetention, { connection: queueConnection, prefix });
  queue.on('error', (err) => log.warn({ err }, 'event retention queue error'));
  let closing = false;
  const scheduled = (async () => {
    for (let attempt = 0; !closing; attempt++) {
      try {
        await queue.upsertJobScheduler(
          RETENTION_SCHEDULER_ID,
          { every: 3_600_000 },
          { name: 'purge', data: {}, opts: { removeOnComplete: 10, removeOnFail: 50 } },
        );
        return;
      } catch (err) {
        if (closing) return;
        if (attempt === 0) log.warn({ err }, 'cannot schedule the event retention purge yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
  })();
  const worker = new Worker(
    QUEUES.eventRetention,
    async (job: Job) => {
      if (!jobSchemas[QUEUES.eventRetention].safeParse(job.data).success) {
        throw new UnrecoverableError(`bad ${QUEUES.eventRetention} payload`);
      }
      const events = await purgeOldEvents(pool, config.EVENT_RETENTION_DAYS);
      await purgeIdempotencyKeys(pool, 'notifications', 48);
      return { events };
    },
    { connection: workerConnection, prefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => log.warn({ err, job: job?.id }, 'event retention purge failed'));
  worker.on('error', (err) => log.warn({ err }, 'event retention worker error'));
  return {
    async close() {
      closing = true;
      await worker.close();
      await queue.close();
      await scheduled;
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
