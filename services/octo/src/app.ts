// The OCTO adapter's app factory: the /octo routes over the commands of inventory and issuance, and
// the adapter's own small table of OCTO bookings. No jobs, consumers or events of its own.
import {
  type App,
  addDependencyChecks,
  type Config,
  createCommandClient,
  createServiceApp,
  type ServiceDeps,
} from '@cruise/shared';
import { createOctoMetrics } from './metrics.ts';
import { registerOctoRoutes } from './routes/octo-routes.ts';

export interface OctoAppOptions {
  logger?: boolean;
}

export async function buildApp(config: Config, deps: ServiceDeps, opts: OctoAppOptions = {}): Promise<App> {
  const app = createServiceApp({
    service: 'octo',
    config,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  addDependencyChecks(app, deps);
  const commands = createCommandClient(
    deps.nc,
    config.NATS_PREFIX,
    config.NATS_REQUEST_TIMEOUT_MS,
    app.metrics,
  );
  const metrics = createOctoMetrics(app.metrics);
  await registerOctoRoutes(app, { config, deps: { db: deps.db, commands }, metrics });
  return app;
}
