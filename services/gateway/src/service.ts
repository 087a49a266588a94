// The gateway, all of it: the public edge. Plugins (plugins/) audit, authenticate and rate-limit every
// public request, forward the contract's other routes to their services and serve the docs and the
// browser apps; the operator API it owns (routes/admin.ts); hourly housekeeping (jobs/); its tables
// (db/schema) and logic (domain/, audit/, auth/). Wired by @cruise/shared.
import {
  allRoutes,
  createApiKeyRoute,
  createClientBudgets,
  createPartnerRoute,
  createRateLimiter,
  DEFAULT_LEASE,
  defineService,
  getPartnerRoute,
  group,
  idempotentRoute,
  job,
  listAuditRoute,
  listPartnersRoute,
  octoErrorDialect,
  revokeApiKeyRoute,
  route,
  updatePartnerRoute,
} from '@cruise/shared';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createAuditWriter } from './audit/audit-log.ts';
import { announceKeyChange, createKeyResolver } from './auth/credentials.ts';
import type { GatewayAppOptions, GatewayContext } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { gatewaySchema } from './db/schema/gateway-schema.ts';
import { createUpstreams } from './forwarding/upstreams.ts';
import { purgeOldAuditRows, purgeOldIdempotencyKeys } from './jobs/housekeeping.ts';
import { createGatewayMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi/document.ts';
import accessControl from './plugins/access-control.ts';
import auditTrail from './plugins/audit-trail.ts';
import browserApps from './plugins/browser-apps.ts';
import {
  API_KEY_SEAL,
  createApiKey,
  createPartner,
  emptyJsonIsNoBody,
  getAudit,
  getPartner,
  getPartners,
  revokeApiKey,
  updatePartner,
} from './routes/admin.ts';
import { forwardedRoutes } from './routes/forwarded-routes.ts';

export default defineService<GatewayContext, GatewayAppOptions>({
  name: 'gateway',
  schema: gatewaySchema.schemaName,
  port: (config) => config.GATEWAY_PORT,
  migrations: migrationSet,
  // The edge: callers prove themselves with credentials; caller headers they send are dropped.
  edge: true,
  // OCTO clients read OCTO's error shape, also for a path the router refuses before any route.
  errorDialects: [octoErrorDialect],
  context: (config, deps, kit) => {
    // A partner with a large budget is charged in blocks (one Redis call per block of requests, never
    // past its limit); near a limit, and for every small budget, each request is charged on its own.
    const limiter = createRateLimiter(deps.redis, kit.app.log, { lease: DEFAULT_LEASE });
    kit.addReadinessCheck('rate_limit', async () => {
      if (limiter.mode() === 'fallback') {
        throw new Error('Redis unreachable: limits enforced per instance in memory (fallback)');
      }
    });
    const audit = createAuditWriter(deps.pool, kit.app.log, { flushIntervalMs: config.AUDIT_FLUSH_MS });
    kit.addReadinessCheck('audit_log', async () => {
      const { failing, buffered } = audit.stats();
      if (failing) throw new Error(`audit rows not being written (${buffered} buffered)`);
    });
    const metrics = createGatewayMetrics(kit.metrics, { limiter, audit });
    const upstreams = createUpstreams(config, metrics);
    const keys = createKeyResolver(deps.pool, {
      redis: deps.redis,
      redisPrefix: config.REDIS_PREFIX,
      log: kit.app.log,
    });
    kit.app.decorate('keyCache', keys);
    kit.onClose(async () => {
      limiter.close();
      await keys.close();
      await upstreams.close();
    });
    return {
      config,
      pool: deps.pool,
      routes: kit.options.routes ?? allRoutes,
      appsDir: kit.options.appsDir,
      audit,
      keys,
      // After a partner's keys or status changed (committed): this instance forgets them now, the others
      // when the announcement reaches them (their entries are half-second ones while they cannot hear it).
      keysChanged: async (partnerId: string) => {
        keys.invalidate(partnerId);
        await announceKeyChange(deps.redis, config.REDIS_PREFIX, partnerId).catch((err) =>
          kit.app.log.error(
            { err, partnerId },
            'key change not announced: other instances may serve cached keys',
          ),
        );
      },
      metrics,
      budgets: createClientBudgets(limiter, config, (scope) => metrics.rateLimited.inc({ scope })),
      upstreams,
    };
  },
  plugins: [
    (app, ctx) => app.register(auditTrail, { writer: ctx.audit }),
    (app, ctx) =>
      app.register(accessControl, {
        config: ctx.config,
        keys: ctx.keys,
        budgets: ctx.budgets,
        onRefused: (code) => ctx.metrics.credentialsRefused.inc({ code: code.toLowerCase() }),
      }),
    (app, ctx) =>
      app.register(forwardedRoutes, { routes: ctx.routes, upstreams: ctx.upstreams, pool: ctx.pool }),
    async (app, ctx) => {
      const document = buildOpenApiDocument(ctx.routes);
      app.get('/openapi.json', { schema: { hide: true } }, async () => document);
      await app.register(swagger, { mode: 'static', specification: { document: document as never } });
      await app.register(swaggerUi, { routePrefix: '/docs' });
    },
    (app, ctx) => app.register(browserApps, ctx.appsDir === undefined ? {} : { appsDir: ctx.appsDir }),
  ],
  routes: [
    group({
      setup: emptyJsonIsNoBody,
      routes: [
        idempotentRoute(createPartnerRoute, createPartner, { sealed: API_KEY_SEAL }),
        route(listPartnersRoute, getPartners),
        route(getPartnerRoute, getPartner),
        route(updatePartnerRoute, updatePartner),
        idempotentRoute(createApiKeyRoute, createApiKey, { sealed: API_KEY_SEAL }),
        route(revokeApiKeyRoute, revokeApiKey),
        route(listAuditRoute, getAudit),
      ],
    }),
  ],
  jobs: [
    job({ name: 'purge-idempotency-keys', every: '1h', run: purgeOldIdempotencyKeys }),
    job({ name: 'audit-retention', every: '1h', run: purgeOldAuditRows }),
  ],
});
