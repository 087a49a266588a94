// The inventory service's app factory: routes, NATS responders, the outbox relay and (with RUN_WORKERS)
// the expiry sweeper, all stopped in onClose.
import {
  type App,
  addDependencyChecks,
  type Config,
  createCommandClient,
  createServiceApp,
  ensureEventStream,
  type ServiceDeps,
  startOutboxRelay,
} from '@cruise/shared';
import { INVENTORY_SCHEMA } from './db/schema/inventory-schema.ts';
import { startResponders } from './messaging/responders.ts';
import { registerAllocationRoutes } from './routes/allocations.ts';
import { registerAppRoutes } from './routes/apps.ts';
import { registerInventoryRoutes } from './routes/inventory.ts';
import { registerReservationRoutes } from './routes/reservations.ts';
import { startReservationExpiryWorker } from './workers/reservation-expiry.worker.ts';

export interface InventoryAppOptions {
  logger?: boolean;
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

  const routeOptions = {
    pool: deps.pool,
    config,
    issuance: createCommandClient(deps.nc, config.NATS_PREFIX, config.NATS_REQUEST_TIMEOUT_MS),
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
  const responders = startResponders(deps.nc, config.NATS_PREFIX, deps.pool, deps.log);
  const expiry = config.RUN_WORKERS ? startReservationExpiryWorker(config, deps.pool, deps.log) : undefined;

  app.addHook('onClose', async () => {
    await expiry?.close();
    await responders.close();
    await relay.stop();
  });
  return app;
}
