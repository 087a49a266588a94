import type { Config, Pool } from '@cruise/shared';

/** What the route plugins need from the app. */
export interface InventoryRouteOptions {
  pool: Pool;
  config: Config;
}
