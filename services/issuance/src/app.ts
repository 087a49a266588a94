// The issuance app: its manifest (service.ts) built on the process's dependencies. `workers: false`
// (tests) serves without the batch worker and the batch-expiry sweep, which then run apart.
import { type App, type BuildOptions, buildService, type Config, type ServiceDeps } from '@cruise/shared';
import manifest from './service.ts';

export { batchJobOptions, startBatchWorker } from './jobs/batch-generation.ts';

export type IssuanceAppOptions = BuildOptions<object>;

export function buildApp(config: Config, deps: ServiceDeps, opts: IssuanceAppOptions = {}): Promise<App> {
  return buildService(manifest, config, deps, opts);
}
