// The inventory service, all of it: pools, prices, reservations and allocations (routes/), the commands
// issuance and the OCTO adapter send it (messaging/; inventory itself asks nobody), the expiry sweep
// (jobs/), its tables (db/schema) and the logic (domain/). Wired by @cruise/shared.
import {
  cancelReservationRoute,
  defineService,
  getCatalogueRoute,
  getInventoryRoute,
  job,
  listAllPoolsRoute,
  listReservationsRoute,
  route,
  setDirectAllocationRoute,
  setPartnerAllocationRoute,
} from '@cruise/shared';
import type { InventoryAppOptions, InventoryContext } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { INVENTORY_SCHEMA } from './db/schema/inventory-schema.ts';
import { type HoldAnswer, holdTogether, type PartnerHold } from './domain/partner-holds.ts';
import { GroupCommit } from './group-commit.ts';
import { purgeOldOutboxRows } from './jobs/outbox-retention.ts';
import { EXPIRY_QUEUE, EXPIRY_SCHEDULER_ID, sweepExpiredHolds } from './jobs/reservation-expiry.ts';
import { inventoryResponders } from './messaging/responders.ts';
import { createInventoryMetrics } from './metrics.ts';
import { setDirectAllocation, setPartnerAllocation } from './routes/allocations.ts';
import { getCatalogue, listAllPools } from './routes/apps.ts';
import { getInventory } from './routes/inventory.ts';
import { cancelReservation, listReservations } from './routes/reservations.ts';

export default defineService<InventoryContext, InventoryAppOptions>({
  name: 'inventory',
  schema: INVENTORY_SCHEMA,
  port: (config) => config.INVENTORY_PORT,
  migrations: migrationSet,
  outbox: true,
  context: (config, deps, kit) => {
    const holds = new GroupCommit<PartnerHold, HoldAnswer>({
      maxSize: config.HOLD_GROUP_MAX_SIZE,
      windowMs: config.HOLD_GROUP_WINDOW_MS,
      run: (group) =>
        holdTogether(deps.pool, group, (err, size, retried) =>
          deps.log.warn(
            { err, size },
            retried
              ? 'a group of holds failed; its holds are retried one by one'
              : 'a group of holds lost its connection at its commit; its holds fail (it may have committed)',
          ),
        ),
    });
    kit.onClose(() => holds.drain());
    return {
      config,
      pool: deps.pool,
      log: deps.log,
      metrics: createInventoryMetrics(kit.metrics, deps.pool),
      holds,
    };
  },
  routes: [
    route(getInventoryRoute, getInventory),
    route(listReservationsRoute, listReservations),
    route(cancelReservationRoute, cancelReservation),
    route(setPartnerAllocationRoute, setPartnerAllocation),
    route(setDirectAllocationRoute, setDirectAllocation),
    route(getCatalogueRoute, getCatalogue),
    route(listAllPoolsRoute, listAllPools),
  ],
  responders: inventoryResponders,
  jobs: [
    job({
      name: EXPIRY_SCHEDULER_ID,
      queue: EXPIRY_QUEUE,
      every: (config) => config.EXPIRY_SWEEP_SECONDS * 1000,
      run: sweepExpiredHolds,
    }),
    job({ name: 'outbox-retention', every: '1h', run: purgeOldOutboxRows }),
  ],
});
