// The expiry sweeper: a BullMQ job scheduler fires every EXPIRY_SWEEP_SECONDS and a worker runs
// `expireHolds`. Safe with several instances: one scheduler entry (upsert by id), and the domain
// function claims its rows with SKIP LOCKED. The same pass purges old Idempotency-Key records.
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
import { expireHolds, INVENTORY_SCHEMA } from '../domain/expiry.ts';

export const EXPIRY_SCHEDULER_ID = 'reservation-expiry-sweep';

/** The job processor: validates the (empty) payload and sweeps. */
export function reservationExpiryProcessor(pool: Pool) {
  return async (job: Job): Promise<{ expired: number }> => {
    const parsed = jobSchemas[QUEUES.reservationExpiry].safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad ${QUEUES.reservationExpiry} payload`);
    const expired = await expireHolds(pool, new Date());
    // Stored Idempotency-Key responses are kept 48 h (the contract promises at least 24 h).
    await purgeIdempotencyKeys(pool, INVENTORY_SCHEMA, 48);
    return { expired };
  };
}

export interface ReservationExpiryWorker {
  queue: Queue;
  worker: Worker;
  close(): Promise<void>;
}

export async function startReservationExpiryWorker(
  config: Config,
  pool: Pool,
  log: Logger,
): Promise<ReservationExpiryWorker> {
  const prefix = bullPrefix(config);
  const queueConnection = createRedis(config, 'blocking');
  const workerConnection = createRedis(config, 'blocking');
  const queue = new Queue(QUEUES.reservationExpiry, { connection: queueConnection, prefix });
  await queue.upsertJobScheduler(
    EXPIRY_SCHEDULER_ID,
    { every: config.EXPIRY_SWEEP_SECONDS * 1000 },
    { name: 'sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 500 } },
  );
  const worker = new Worker(QUEUES.reservationExpiry, reservationExpiryProcessor(pool), {
    connection: workerConnection,
    prefix,
    concurrency: 1,
  });
  worker.on('completed', (_job, result: { expired: number }) => {
    if (result.expired > 0) log.info({ expired: result.expired }, 'expired reservation holds');
  });
  worker.on('failed', (job, err) => log.warn({ err, job: job?.id }, 'reservation expiry sweep failed'));
  worker.on('error', (err) => log.warn({ err }, 'reservation expiry worker error'));
  return {
    queue,
    worker,
    async close() {
      await worker.close();
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
