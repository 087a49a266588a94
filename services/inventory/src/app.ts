// The inventory app: its manifest (service.ts) built on the process's dependencies.
import { type App, type BuildOptions, buildService, type Config, type ServiceDeps } from '@cruise/shared';
import type { InventoryAppOptions } from './context.ts';
import manifest from './service.ts';

export type { InventoryAppOptions } from './context.ts';

export function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: BuildOptions<InventoryAppOptions> = {},
): Promise<App> {
  return buildService(manifest, config, deps, opts);
}
