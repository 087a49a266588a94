// What inventory's handlers share (built once by the manifest's `context`): configuration, the
// database, the logger and the service's metrics.
import type { Config, Logger, Pool } from '@cruise/shared';
import type { HoldAnswer, PartnerHold } from './domain/partner-holds.ts';
import type { GroupCommit } from './group-commit.ts';
import type { InventoryMetrics } from './metrics.ts';

export interface InventoryContext {
  config: Config;
  pool: Pool;
  log: Logger;
  /** Reservations by outcome, pool units (/metrics). */
  metrics: InventoryMetrics;
  /** Partners' holds, grouped per pool (group commit). */
  holds: GroupCommit<PartnerHold, HoldAnswer>;
}

/** buildApp's options beyond logging (none: the control runs swap the domain's hold in test code). */
export type InventoryAppOptions = Record<never, never>;
