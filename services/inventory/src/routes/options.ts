import type { CommandClient, Config, Pool } from '@cruise/shared';
import type { HoldStrategy } from '../domain/pools.ts';
import type { InventoryMetrics } from '../metrics.ts';

/** What the route plugins need from the app. */
export interface InventoryRouteOptions {
  pool: Pool;
  config: Config;
  /** Always `conditional` outside the concurrency tests' control run. */
  holdStrategy: HoldStrategy;
  /** Commands to issuance (the tickets of a confirmed reservation). */
  issuance: CommandClient;
  metrics?: InventoryMetrics;
}
