// The issuance service's app factory: an un-listened fastify instance wired to its dependencies —
// routes, the outbox relay, the responders (ticketSnapshot, and for the OCTO adapter reservationTickets,
// confirmOnAccount, cancelReservationTickets), the redemption event consumer, and (when
// RUN_WORKERS) the batch-generation worker and the batch-expiry scheduler.
import {
  type App,
  addDependencyChecks,
  allRoutes,
  bullPrefix,
  type Config,
  createCommandClient,
  createRedis,
  createServiceApp,
  type EventConsumer,
  QUEUES,
  requireAdmin,
  type ServiceDeps,
  startOutboxRelay,
  withTimeout,
} from '@cruise/shared';
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import { flushPendingReleases } from './domain/pool-releases.ts';
import { consumeRedemptionEvents } from './messaging/redemption-events.consumer.ts';
import { respondOnAccountSales, respondReservationTickets } from './messaging/reservations.responders.ts';
import { respondTicketSnapshot } from './messaging/ticket-snapshot.responder.ts';
import { batchRoutes } from './routes/batches.ts';
import { partnerOf, type RouteContext } from './routes/context.ts';
import { directOrderRoutes } from './routes/direct-orders.ts';
import { operatorViewRoutes } from './routes/operator-views.ts';
import { paymentRoutes } from './routes/payments.ts';
import { reportRoutes } from './routes/reports.ts';
import { resellerRoutes } from './routes/resellers.ts';
import { reservationRoutes } from './routes/reservations.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { batchExpiryProcessor } from './workers/batch-expiry.worker.ts';
import {
  BATCH_JOB_ATTEMPTS,
  batchGenerationProcessor,
  onBatchJobFailed,
} from './workers/batch-generation.worker.ts';

export interface IssuanceAppOptions {
  logger?: boolean;
  /** Overrides config.RUN_WORKERS (tests drive generation themselves, or run a worker apart). */
  workers?: boolean;
}

/** Adds a batch's generation job; the job id is the batch id, so adding it twice is a no-op. */
export function batchJobOptions(batchId: string) {
  return {
    jobId: batchId,
    attempts: BATCH_JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: 1_000,
  };
}

/** A batch-generation worker, apart from the HTTP app (also used by tests that kill and restart one). */
export function startBatchWorker(
  config: Config,
  deps: Pick<ServiceDeps, 'pool' | 'log'>,
  /** e.g. a short `stalledInterval` in tests that kill a worker and wait for its job to be picked up again. */
  tuning: Pick<WorkerOptions, 'stalledInterval' | 'lockDuration'> = {},
) {
  const connection = createRedis(config, 'blocking');
  let stopping = false;
  const processor = batchGenerationProcessor(deps.pool, config, deps.log, () => stopping);
  const worker = new Worker(QUEUES.batchGeneration, processor, {
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

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: IssuanceAppOptions = {},
): Promise<App> {
  const app = createServiceApp({ service: 'issuance', config, ...opts });
  addDependencyChecks(app, deps);
  const { pool, nc, log } = deps;
  const prefix = config.NATS_PREFIX;
  const inventory = createCommandClient(nc, prefix, config.NATS_REQUEST_TIMEOUT_MS);

  const queueConnection = createRedis(config, 'blocking');
  const batchQueue = new Queue(QUEUES.batchGeneration, {
    connection: queueConnection,
    prefix: bullPrefix(config),
  });
  batchQueue.on('error', (err) => log.warn({ err }, 'batch queue error'));
  // The batch is committed (and its units held) before this runs, so a Redis outage must not turn the
  // 202 into an error or a hang: the job is then enqueued by the sweep's stranded-batch pass.
  const enqueueBatch = async (batchId: string) => {
    await withTimeout(
      batchQueue.add('generate', { batch_id: batchId }, batchJobOptions(batchId)),
      2_000,
      'enqueue timed out',
    ).catch((err) => log.warn({ err, batch_id: batchId }, 'batch not enqueued yet; the sweep will retry'));
  };

  // Small passes: a batch chunk's events carry up to 500 snapshots each, and a pass loads its rows in memory.
  const relay = startOutboxRelay({ pool, nc, prefix, schema: 'issuance', log, batchSize: 20 });
  const responders = [
    respondTicketSnapshot(nc, prefix, pool, log),
    respondReservationTickets(nc, prefix, pool, log),
    ...respondOnAccountSales(nc, prefix, pool, inventory, log, () => relay.kick()),
  ];
  const consumer: EventConsumer = await consumeRedemptionEvents(nc, prefix, pool, log);

  const ctx: RouteContext = {
    pool,
    inventory,
    config,
    enqueueBatch,
    eventsWritten: () => relay.kick(),
    async sendReleases(refs) {
      await flushPendingReleases(pool, inventory, log, { refs }).catch((err) =>
        log.warn({ err, refs }, 'pool release not sent yet; the sweep will retry'),
      );
    },
  };
  // Who may call is checked before the body is validated: an unauthenticated caller learns nothing
  // about the request's shape. (The gateway checks too; this guards direct calls to the service.)
  const authOf = new Map(
    allRoutes.filter((r) => r.service === 'issuance').map((r) => [`${r.method} ${r.path}`, r.auth]),
  );
  app.addHook('preValidation', async (request) => {
    const auth = authOf.get(`${request.method} ${request.routeOptions.url}`);
    if (auth === 'partner') partnerOf(request);
    else if (auth === 'admin') requireAdmin(request);
  });
  await paymentRoutes(app, ctx);
  await ticketRoutes(app, ctx);
  await batchRoutes(app, ctx);
  await resellerRoutes(app, ctx);
  await reportRoutes(app, ctx);
  await reservationRoutes(app, ctx);
  await directOrderRoutes(app, ctx);
  await operatorViewRoutes(app, ctx);

  const runWorkers = opts.workers ?? config.RUN_WORKERS;
  const closers: (() => Promise<void>)[] = [];
  if (runWorkers) {
    const batchWorker = startBatchWorker(config, deps);
    closers.push(() => batchWorker.close());

    const expiryConnection = createRedis(config, 'blocking');
    const expiryQueue = new Queue(QUEUES.batchExpiry, {
      connection: expiryConnection,
      prefix: bullPrefix(config),
    });
    // Not awaited: with Redis down at start the service still serves; the upsert completes when Redis is back.
    void expiryQueue
      .upsertJobScheduler(
        'batch-expiry-sweep',
        { every: config.EXPIRY_SWEEP_SECONDS * 1_000 },
        { name: 'sweep', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      )
      .catch((err) => log.error({ err }, 'batch-expiry scheduler not installed'));
    const expiryWorkerConnection = createRedis(config, 'blocking');
    const expiryWorker = new Worker(
      QUEUES.batchExpiry,
      batchExpiryProcessor({ pool, inventory, log, enqueueBatch }),
      { connection: expiryWorkerConnection, prefix: bullPrefix(config), concurrency: 1 },
    );
    expiryWorker.on('error', (err) => log.warn({ err }, 'batch expiry worker error'));
    closers.push(async () => {
      await expiryWorker.close();
      await expiryQueue.close();
      expiryConnection.disconnect();
      expiryWorkerConnection.disconnect();
    });
  }

  app.addHook('onClose', async () => {
    await consumer.stop().catch(() => {});
    for (const r of responders) r.unsubscribe();
    for (const close of closers) await close().catch((err) => log.warn({ err }, 'worker close failed'));
    await batchQueue.close().catch(() => {});
    queueConnection.disconnect();
    await relay.stop();
  });
  return app;
}
