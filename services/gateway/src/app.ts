// The gateway app: its manifest (service.ts) built on the process's dependencies.
import { type App, type BuildOptions, buildService, type Config, type ServiceDeps } from '@cruise/shared';
import type { GatewayAppOptions } from './context.ts';
import manifest from './service.ts';

export type { GatewayAppOptions };

export function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: BuildOptions<GatewayAppOptions> = {},
): Promise<App> {
  return buildService(manifest, config, deps, opts);
}
