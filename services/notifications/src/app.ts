// The notifications service's app factory: partner webhooks and the event feed (api.md "Partner webhooks
// and the event feed"). It wires the webhook and feed routes, the durable consumer of the services'
// partner events, and (when RUN_WORKERS) the dispatcher (batched first attempts, one job per retry), its
// sweeper and the retention scheduler.
import {
  type App,
  addDependencyChecks,
  type Config,
  createServiceApp,
  ensureEventStream,
  type ServiceDeps,
  secretSealer,
} from '@cruise/shared';
import type { WorkerOptions } from 'bullmq';
import type { NewDelivery } from './domain/event-store.ts';
import { cursorCodec } from './domain/feed.ts';
import { startPartnerEventConsumer } from './messaging/partner-events.consumer.ts';
import { createNotificationMetrics } from './metrics.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { startEventRetentionWorker } from './workers/event-retention.worker.ts';
import { createDeliveryQueue, startDeliveryWorker } from './workers/webhook-delivery.worker.ts';

export interface NotificationsAppOptions {
  logger?: boolean;
  /** Overrides config.RUN_WORKERS (a test runs the dispatcher apart to kill it). */
  workers?: boolean;
  /** e.g. a short `stalledInterval` in tests that kill a dispatcher mid-delivery. */
  tuning?: Pick<WorkerOptions, 'stalledInterval' | 'lockDuration'>;
}

/** Secrets are sealed with a key derived from ADMIN_TOKEN for this one purpose. */
export function webhookSecretSealer(config: Config) {
  return secretSealer(config.ADMIN_TOKEN, 'notifications:webhook-secrets');
}

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: NotificationsAppOptions = {},
): Promise<App> {
  const app = createServiceApp({ service: 'notifications', config, logger: opts.logger });
  addDependencyChecks(app, deps);
  const sealer = webhookSecretSealer(config);
  const queue = createDeliveryQueue(config, deps.log);
  const metrics = createNotificationMetrics(app.metrics, () => queue.queue);

  const runWorkers = opts.workers ?? config.RUN_WORKERS;
  const dispatcher = runWorkers
    ? startDeliveryWorker({
        config,
        pool: deps.pool,
        log: deps.log,
        sealer,
        queue,
        metrics,
        tuning: opts.tuning,
      })
    : undefined;
  const retention = runWorkers ? startEventRetentionWorker(config, deps.pool, deps.log) : undefined;

  await ensureEventStream(deps.nc, config.NATS_PREFIX);
  const consumer = await startPartnerEventConsumer({
    nc: deps.nc,
    prefix: config.NATS_PREFIX,
    pool: deps.pool,
    log: deps.log,
    queue,
  });

  app.addHook('onClose', async () => {
    await consumer.stop();
    await dispatcher?.close();
    await retention?.close();
    await queue.close();
  });

  const ctx = {
    config,
    pool: deps.pool,
    sealer,
    cursors: cursorCodec(config.ADMIN_TOKEN),
    // A lost enqueue only delays: the dispatcher's sweeper re-creates jobs of overdue PENDING deliveries.
    enqueue: (deliveries: NewDelivery[]) =>
      queue
        .enqueue(deliveries)
        .catch((err) => deps.log.warn({ err }, 'delivery not enqueued; the sweeper will')),
  };
  registerWebhookRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  return app;
}
