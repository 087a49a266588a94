// The gateway's app factory: the public edge. Authenticates, rate-limits and audits every public
// request, serves the operator API it owns, forwards the rest of the contract's routes to their
// services, and publishes the OpenAPI document.

import {
  type App,
  addDependencyChecks,
  allRoutes,
  type Config,
  createClientBudgets,
  createRateLimiter,
  createServiceApp,
  type LogStream,
  purgeIdempotencyKeys,
  type RouteDef,
  type ServiceDeps,
} from '@cruise/shared';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createAuditWriter, purgeAuditLog } from './audit/audit-log.ts';
import { announceKeyChange, createKeyResolver, type KeyResolver } from './auth/credentials.ts';
import { createUpstreams } from './forwarding/upstreams.ts';
import { createGatewayMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi/document.ts';
import accessControl from './plugins/access-control.ts';
import auditTrail from './plugins/audit-trail.ts';
import browserApps from './plugins/browser-apps.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { forwardedRoutes } from './routes/forwarded-routes.ts';

export interface GatewayAppOptions {
  logger?: boolean;
  /** Where log lines go instead of stdout (a test reads them back). */
  logStream?: LogStream;
  /** The public route catalogue; the contract's `allRoutes` unless a test supplies its own. */
  routes?: RouteDef[];
  /** Where the browser apps' builds are (`<dir>/<app>/dist`); the repository's apps/ by default. */
  appsDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's cache of API-key lookups (tests look at whether its invalidation channel is live). */
    keyCache: KeyResolver;
  }
}

/** Housekeeping (idempotency keys, audit retention) runs hourly. */
const HOUSEKEEPING_MS = 60 * 60 * 1000;

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: GatewayAppOptions = {},
): Promise<App> {
  const routes = opts.routes ?? allRoutes;
  const app = createServiceApp({
    service: 'gateway',
    config,
    // The edge: callers prove themselves with credentials; caller headers they send are dropped.
    callerHeaders: 'ignore',
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    ...(opts.logStream ? { logStream: opts.logStream } : {}),
  });
  addDependencyChecks(app, deps);

  const limiter = createRateLimiter(deps.redis, app.log);
  app.addReadinessCheck('rate_limit', async () => {
    if (limiter.mode() === 'fallback') {
      throw new Error('Redis unreachable: limits enforced per instance in memory (fallback)');
    }
  });
  const auditWriter = createAuditWriter(deps.pool, app.log, { flushIntervalMs: config.AUDIT_FLUSH_MS });
  app.addReadinessCheck('audit_log', async () => {
    const { failing, buffered } = auditWriter.stats();
    if (failing) throw new Error(`audit rows not being written (${buffered} buffered)`);
  });
  const metrics = createGatewayMetrics(app.metrics, { limiter, audit: auditWriter });
  const upstreams = createUpstreams(config, metrics);

  await app.register(auditTrail, { writer: auditWriter });
  const budgets = createClientBudgets(limiter, config, (scope) => metrics.rateLimited.inc({ scope }));
  const keys = createKeyResolver(deps.pool, {
    redis: deps.redis,
    redisPrefix: config.REDIS_PREFIX,
    log: app.log,
  });
  // After a partner's keys or status changed (committed): this instance forgets them now, the others
  // when the announcement reaches them (their entries are half-second ones while they cannot hear it).
  const keysChanged = async (partnerId: string) => {
    keys.invalidate(partnerId);
    await announceKeyChange(deps.redis, config.REDIS_PREFIX, partnerId).catch((err) =>
      app.log.error({ err, partnerId }, 'key change not announced: other instances may serve cached keys'),
    );
  };
  app.decorate('keyCache', keys);
  await app.register(accessControl, {
    config,
    keys,
    budgets,
    onRefused: (code) => metrics.credentialsRefused.inc({ code: code.toLowerCase() }),
  });
  await app.register(adminRoutes, { config, pool: deps.pool, keysChanged });
  await app.register(forwardedRoutes, { routes, upstreams, pool: deps.pool });

  const document = buildOpenApiDocument(routes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => document);
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(browserApps, opts.appsDir === undefined ? {} : { appsDir: opts.appsDir });

  const purge = setInterval(() => {
    purgeIdempotencyKeys(deps.pool, 'gateway').catch((err) =>
      app.log.warn({ err }, 'idempotency purge failed'),
    );
    purgeAuditLog(deps.pool, config.AUDIT_RETENTION_DAYS).catch((err) =>
      app.log.warn({ err }, 'audit retention purge failed'),
    );
  }, HOUSEKEEPING_MS);
  purge.unref();

  app.addHook('onClose', async () => {
    clearInterval(purge);
    limiter.close();
    await keys.close();
    await upstreams.close();
  });
  return app;
}
