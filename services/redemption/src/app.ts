// The redemption service's app factory: an un-listened fastify instance wired to its dependencies —
// routes, the projection consumer of issuance's ticket events, and the outbox relay of its own events.
import {
  type App,
  addDependencyChecks,
  type Config,
  createClientBudgets,
  createCommandClient,
  createRateLimiter,
  createServiceApp,
  ensureEventStream,
  type LogStream,
  purgeIdempotencyKeys,
  type ServiceDeps,
  startOutboxRelay,
  watchOutbox,
} from '@cruise/shared';
import { purgeNonces } from './domain/redeem.ts';
import { startIssuanceEventConsumer } from './messaging/issuance-events.ts';
import { issuanceTicketSource } from './messaging/ticket-snapshots.ts';
import { createRedemptionMetrics } from './metrics.ts';
import { registerDeviceRoutes } from './routes/devices.ts';
import { registerQrRoutes } from './routes/qr.ts';
import { registerVenueRoutes } from './routes/venue.ts';

export async function buildApp(
  config: Config,
  deps: ServiceDeps,
  opts: { logger?: boolean; logStream?: LogStream } = {},
): Promise<App> {
  const app = createServiceApp({ service: 'redemption', config, ...opts });
  addDependencyChecks(app, deps);

  const prefix = config.NATS_PREFIX;
  await ensureEventStream(deps.nc, prefix);
  const consumer = await startIssuanceEventConsumer({ nc: deps.nc, prefix, pool: deps.pool, log: deps.log });
  const relay = startOutboxRelay({
    pool: deps.pool,
    nc: deps.nc,
    prefix,
    schema: 'redemption',
    log: deps.log,
  });
  // Retry records expire (Idempotency-Keys after 48 h, scan nonces after 7 days); every replica may
  // run the purge, a DELETE twice is harmless.
  const purge = setInterval(() => {
    Promise.all([purgeIdempotencyKeys(deps.pool, 'redemption'), purgeNonces(deps.pool)]).catch((err) =>
      deps.log.warn({ err }, 'retry-record purge failed'),
    );
  }, 3_600_000);
  purge.unref();
  app.addHook('onClose', async () => {
    clearInterval(purge);
    await consumer.stop();
    await relay.stop();
  });

  const commands = createCommandClient(deps.nc, prefix, config.NATS_REQUEST_TIMEOUT_MS, app.metrics);
  watchOutbox(app.metrics, deps.pool, 'redemption');
  const metrics = createRedemptionMetrics(app.metrics);
  // Scanners call this port directly: its public routes are limited like the gateway's, in the same
  // Redis budgets, so a client has one budget whichever door it uses.
  const limiter = createRateLimiter(deps.redis, app.log);
  app.addReadinessCheck('rate_limit', async () => {
    if (limiter.mode() === 'fallback') {
      throw new Error('Redis unreachable: limits enforced per instance in memory (fallback)');
    }
  });
  app.addHook('onClose', async () => limiter.close());
  const budgets = createClientBudgets(limiter, config);
  const ctx = { config, pool: deps.pool, source: issuanceTicketSource(commands), relay, budgets, metrics };
  registerQrRoutes(app, ctx);
  registerVenueRoutes(app, ctx);
  registerDeviceRoutes(app, ctx);
  return app;
}
