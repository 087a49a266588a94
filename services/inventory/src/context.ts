// What inventory's handlers share (built once by the manifest's `context`): configuration, the
// database, the logger, and how a hold is taken (always `conditional`, except in the concurrency tests' control run).
import type { Config, Logger, Pool } from '@cruise/shared';
import type { HoldStrategy } from './domain/pools.ts';
import type { InventoryMetrics } from './metrics.ts';

export interface InventoryContext {
  config: Config;
  pool: Pool;
  log: Logger;
  holdStrategy: HoldStrategy;
  /** Reservations by outcome, pool units (/metrics). */
  metrics: InventoryMetrics;
}

/** buildApp's options beyond logging. */
export interface InventoryAppOptions {
  /** Only the concurrency tests' control run sets `read-then-write`, to show the race it allows. */
  holdStrategy?: HoldStrategy;
}
