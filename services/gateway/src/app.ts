// The gateway service's app factory: an un-listened fastify instance wired to its dependencies.
import {
  type App,
  addDependencyChecks,
  type Config,
  createServiceApp,
  type ServiceDeps,
} from '@cruise/shared';

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: { logger?: boolean } = {},
): Promise<App> {
  const app = createServiceApp({ service: 'gateway', config, ...opts });
  addDependencyChecks(app, deps);
  return app;
}
