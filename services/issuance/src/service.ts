// The issuance service, all of it: payments, tickets, batches, resellers, reports, direct orders and the
// partner's reservation routes that need its records (routes/), the commands it answers and redemption's
// events it follows (messaging/), batch generation and the batch-expiry sweep (jobs/), its tables
// (db/schema) and the logic (domain/). Wired by @cruise/shared.
import {
  activateTicketRoute,
  batchTicketsCsvRoute,
  billingSummaryRoute,
  bulkGenerateRoute,
  cancelTicketRoute,
  consumer,
  createDirectOrderRoute,
  createResellerRoute,
  createReservationRoute,
  defineService,
  deleteResellerRoute,
  getBatchRoute,
  getResellerRoute,
  getReservationRoute,
  getTicketRoute,
  group,
  job,
  listAllBatchesRoute,
  listBatchesRoute,
  listPendingReleasesRoute,
  listResellersRoute,
  listTicketsRoute,
  partnerBillingSummaryRoute,
  partnerReconciliationRoute,
  paymentNotifyRoute,
  QUEUES,
  reconciliationRoute,
  route,
  updateResellerRoute,
  withTimeout,
  worker,
} from '@cruise/shared';
import type { IssuanceContext } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { flushPendingReleases } from './domain/pool-releases.ts';
import { BATCH_EXPIRY_QUEUE, BATCH_EXPIRY_SCHEDULER_ID, sweepBatches } from './jobs/batch-expiry.ts';
import { batchGenerationProcessor, batchJobOptions, onBatchJobFailed } from './jobs/batch-generation.ts';
import { applyRedemptions, REDEMPTION_EVENTS } from './messaging/redemption-events.ts';
import { issuanceResponders } from './messaging/responders.ts';
import { createIssuanceMetrics } from './metrics.ts';
import { batchTicketsCsv, bulkGenerate, getPartnerBatch, listPartnerBatches } from './routes/batches.ts';
import { createDirectOrder } from './routes/direct-orders.ts';
import { allBatches, partnerBilling, partnerReconciliation } from './routes/operator-views.ts';
import { notifyPayment, paymentScope } from './routes/payments.ts';
import { pendingReleases } from './routes/pending-releases.ts';
import { ownBilling, ownReconciliation } from './routes/reports.ts';
import {
  createOwnReseller,
  deleteOwnReseller,
  getOwnReseller,
  listOwnResellers,
  updateOwnReseller,
} from './routes/resellers.ts';
import { createReservation, getReservation } from './routes/reservations.ts';
import {
  activatePartnerTicket,
  cancelPartnerTicket,
  getPartnerTicket,
  listPartnerTickets,
} from './routes/tickets.ts';

export default defineService<IssuanceContext>({
  name: 'issuance',
  schema: 'issuance',
  port: (config) => config.ISSUANCE_PORT,
  migrations: migrationSet,
  // Small relay passes: a batch chunk's events carry up to 500 snapshots each, and a pass loads its rows.
  outbox: { batchSize: 20 },
  context: (config, deps, kit) => {
    const { pool, log } = deps;
    const inventory = kit.commands;
    const batchQueue = kit.queue(QUEUES.batchGeneration);
    let stopping = false;
    // Before HTTP stops: a running batch job hands itself back between two chunks instead of finishing.
    kit.app.addHook('preClose', async () => {
      stopping = true;
    });
    return {
      pool,
      inventory,
      config,
      log,
      // The batch is committed (and its units held) before this runs, so a Redis outage must not turn
      // the 202 into an error or a hang: the job is then enqueued by the sweep's stranded-batch pass.
      async enqueueBatch(batchId) {
        await withTimeout(
          batchQueue.add('generate', { batch_id: batchId }, batchJobOptions(batchId)),
          2_000,
          'enqueue timed out',
        ).catch((err) =>
          log.warn({ err, batch_id: batchId }, 'batch not enqueued yet; the sweep will retry'),
        );
      },
      eventsWritten: () => kit.relay.kick(),
      async sendReleases(refs) {
        await flushPendingReleases(pool, inventory, log, { refs }).catch((err) =>
          log.warn({ err, refs }, 'pool release not sent yet; the sweep will retry'),
        );
      },
      stopping: () => stopping,
      metrics: createIssuanceMetrics(kit.metrics, pool),
    };
  },
  routes: [
    group({ setup: paymentScope, routes: [route(paymentNotifyRoute, notifyPayment)] }),
    route(createReservationRoute, createReservation),
    route(getReservationRoute, getReservation),
    route(listTicketsRoute, listPartnerTickets),
    route(getTicketRoute, getPartnerTicket),
    route(activateTicketRoute, activatePartnerTicket),
    route(cancelTicketRoute, cancelPartnerTicket),
    route(bulkGenerateRoute, bulkGenerate),
    route(listBatchesRoute, listPartnerBatches),
    route(getBatchRoute, getPartnerBatch),
    route(batchTicketsCsvRoute, batchTicketsCsv),
    route(createResellerRoute, createOwnReseller),
    route(listResellersRoute, listOwnResellers),
    route(getResellerRoute, getOwnReseller),
    route(updateResellerRoute, updateOwnReseller),
    route(deleteResellerRoute, deleteOwnReseller),
    route(billingSummaryRoute, ownBilling),
    route(reconciliationRoute, ownReconciliation),
    route(createDirectOrderRoute, createDirectOrder),
    route(listAllBatchesRoute, allBatches),
    route(partnerBillingSummaryRoute, partnerBilling),
    route(partnerReconciliationRoute, partnerReconciliation),
    route(listPendingReleasesRoute, pendingReleases),
  ],
  responders: issuanceResponders,
  consumers: [
    consumer({
      durable: 'issuance',
      filter: 'events.redemption.>',
      events: REDEMPTION_EVENTS,
      handleGroup: applyRedemptions,
    }),
  ],
  jobs: [
    worker({
      queue: QUEUES.batchGeneration,
      concurrency: (config) => config.BATCH_WORKER_CONCURRENCY,
      run: (_data, job, ctx) =>
        batchGenerationProcessor(ctx.pool, ctx.config, ctx.log, ctx.stopping, ctx.metrics)(job),
      failed: (job, err, ctx) => onBatchJobFailed(ctx.pool, job, err, ctx.log),
    }),
    job({
      name: BATCH_EXPIRY_SCHEDULER_ID,
      queue: BATCH_EXPIRY_QUEUE,
      every: (config) => config.EXPIRY_SWEEP_SECONDS * 1000,
      run: sweepBatches,
    }),
  ],
});
