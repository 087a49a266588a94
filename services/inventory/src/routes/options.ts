import type { CommandClient, Config, Pool } from '@cruise/shared';

/** What the route plugins need from the app. */
export interface InventoryRouteOptions {
  pool: Pool;
  config: Config;
  /** Commands to issuance (the tickets of a confirmed reservation). */
  issuance: CommandClient;
}
