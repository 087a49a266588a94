// The inventory service's app factory: routes, NATS responders, the outbox relay and (with RUN_WORKERS)
// the expiry sweeper, all stopped in onClose.
import {
  type App,
  addDependencyChecks,
  type Config,
  countJobFailures,
  createCommandClient,
  createServiceApp,
  ensureEventStream,
  type ServiceDeps,
  startOutboxRelay,
  watchOutbox,
  watchQueues,
} from '@cruise/shared';
import { INVENTORY_SCHEMA } from './db/schema/inventory-schema.ts';
import type { HoldStrategy } from './domain/pools.ts';
import { startResponders } from './messaging/responders.ts';
import { createInventoryMetrics } from './metrics.ts';
import { registerAllocationRoutes } from './routes/allocations.ts';
import { registerAppRoutes } from './routes/apps.ts';
import { registerInventoryRoutes } from './routes/inventory.ts';
import { registerReservationRoutes } from './routes/reservations.ts';
import { startReservationExpiryWorker } from './workers/reservation-expiry.worker.ts';

export interface InventoryAppOptions {
  logger?: boolean;
  /** Only the concurrency tests' control run sets `read-then-write`, to show the race it allows. */
  holdStrategy?: HoldStrategy;
}

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: InventoryAppOptions = {},
): Promise<App> {
  const app = createServiceApp({
    service: 'inventory',
    config,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  addDependencyChecks(app, deps);
  const metrics = createInventoryMetrics(app.metrics, deps.pool);
  watchOutbox(app.metrics, deps.pool, INVENTORY_SCHEMA);

  const routeOptions = {
    pool: deps.pool,
    config,
    holdStrategy: opts.holdStrategy ?? 'conditional',
    issuance: createCommandClient(deps.nc, config.NATS_PREFIX, config.NATS_REQUEST_TIMEOUT_MS, app.metrics),
    metrics,
  } as const;
  registerInventoryRoutes(app, routeOptions);
  registerReservationRoutes(app, routeOptions);
  registerAllocationRoutes(app, routeOptions);
  registerAppRoutes(app, routeOptions);

  await ensureEventStream(deps.nc, config.NATS_PREFIX);
  const relay = startOutboxRelay({
    pool: deps.pool,
    nc: deps.nc,
    prefix: config.NATS_PREFIX,
    schema: INVENTORY_SCHEMA,
    log: deps.log,
  });
  const responders = startResponders(deps.nc, config.NATS_PREFIX, deps.pool, deps.log, {
    holdStrategy: routeOptions.holdStrategy,
    metrics,
  });
  const expiry = config.RUN_WORKERS
    ? startReservationExpiryWorker(config, deps.pool, deps.log, (n) =>
        metrics.reservations.inc({ outcome: 'expired' }, n),
      )
    : undefined;
  if (expiry) {
    watchQueues(app.metrics, [expiry.queue]);
    countJobFailures(app.metrics, expiry.worker);
  }

  app.addHook('onClose', async () => {
    await expiry?.close();
    await responders.close();
    await relay.stop();
  });
  return app;
}
