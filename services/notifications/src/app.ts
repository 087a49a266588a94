// The notifications app: its manifest (service.ts) built on the process's dependencies.
import { type App, type BuildOptions, buildService, type Config, type ServiceDeps } from '@cruise/shared';
import manifest from './service.ts';

export { webhookSecretSealer } from './context.ts';

export function buildApp(config: Config, deps: ServiceDeps, opts: BuildOptions<object> = {}): Promise<App> {
  return buildService(manifest, config, deps, opts);
}
