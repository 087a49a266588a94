// The expiry sweeper: a BullMQ job scheduler fires every EXPIRY_SWEEP_SECONDS and a worker runs
// `expireHolds`. Safe with several instances: one scheduler entry (upsert by id), and the domain
// function claims its rows with SKIP LOCKED. The same pass purges old Idempotency-Key records.
// A second scheduler on the same queue purges published outbox rows hourly (outbox retention).
import {
  bullPrefix,
  type Config,
  createRedis,
  jobSchemas,
  type Logger,
  type Pool,
  purgeIdempotencyKeys,
  purgePublishedOutbox,
  QUEUES,
} from '@cruise/shared';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';
import { expireHolds } from '../domain/expiry.ts';

export const EXPIRY_SCHEDULER_ID = 'reservation-expiry-sweep';
export const OUTBOX_RETENTION_SCHEDULER_ID = 'inventory-outbox-retention';
/** Job name of the outbox retention pass (the sweep's jobs are named `sweep`). */
export const OUTBOX_RETENTION_JOB = 'purge-outbox';
const OUTBOX_RETENTION_EVERY_MS = 60 * 60 * 1000;

/** The job processor: validates the (empty) payload and sweeps, or purges the outbox. */
export function reservationExpiryProcessor(pool: Pool) {
  return async (job: Job): Promise<{ expired: number } | { purged: number }> => {
    const parsed = jobSchemas[QUEUES.reservationExpiry].safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad ${QUEUES.reservationExpiry} payload`);
    if (job.name === OUTBOX_RETENTION_JOB) {
      return { purged: await purgePublishedOutbox(pool, INVENTORY_SCHEMA, 24) };
    }
    const expired = await expireHolds(pool, new Date());
    // Stored Idempotency-Key responses are kept 48 h (the contract promises at least 24 h).
    await purgeIdempotencyKeys(pool, INVENTORY_SCHEMA, 48);
    return { expired };
  };
}

export interface ReservationExpiryWorker {
  queue: Queue;
  worker: Worker;
  /** Settles once the scheduler entry is in Redis (retried in the background while Redis is down). */
  scheduled: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the worker and upserts the scheduler. Nothing here waits for Redis: a service starts while
 * Redis is down (readiness reports it) and the worker and scheduler catch up when it returns.
 */
export function startReservationExpiryWorker(
  config: Config,
  pool: Pool,
  log: Logger,
  /** Called with each sweep's count of expired holds (the service's metrics). */
  onExpired: (count: number) => void = () => {},
): ReservationExpiryWorker {
  const prefix = bullPrefix(config);
  const queueConnection = createRedis(config, 'blocking');
  const workerConnection = createRedis(config, 'blocking');
  const queue = new Queue(QUEUES.reservationExpiry, { connection: queueConnection, prefix });
  queue.on('error', (err) => log.warn({ err }, 'reservation expiry queue error'));
  let closing = false;
  const scheduled = (async () => {
    for (let attempt = 0; !closing; attempt++) {
      try {
        await queue.upsertJobScheduler(
          EXPIRY_SCHEDULER_ID,
          { every: config.EXPIRY_SWEEP_SECONDS * 1000 },
          { name: 'sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 500 } },
        );
        await queue.upsertJobScheduler(
          OUTBOX_RETENTION_SCHEDULER_ID,
          { every: OUTBOX_RETENTION_EVERY_MS },
          { name: OUTBOX_RETENTION_JOB, data: {}, opts: { removeOnComplete: 10, removeOnFail: 50 } },
        );
        return;
      } catch (err) {
        if (closing) return;
        if (attempt === 0) log.warn({ err }, 'cannot schedule the reservation expiry sweep yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
  })();
  const worker = new Worker(QUEUES.reservationExpiry, reservationExpiryProcessor(pool), {
    connection: workerConnection,
    prefix,
    concurrency: 1,
  });
  worker.on('completed', (_job, result: { expired: number } | { purged: number }) => {
    if ('purged' in result) {
      if (result.purged > 0) log.info({ purged: result.purged }, 'purged published outbox rows');
      return;
    }
    onExpired(result.expired);
    if (result.expired > 0) log.info({ expired: result.expired }, 'expired reservation holds');
  });
  worker.on('failed', (job, err) => log.warn({ err, job: job?.id }, 'reservation expiry sweep failed'));
  worker.on('error', (err) => log.warn({ err }, 'reservation expiry worker error'));
  return {
    queue,
    worker,
    scheduled,
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
