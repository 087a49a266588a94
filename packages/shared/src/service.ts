// What every service process shares: its infrastructure connections (`ServiceDeps`) and the thin
// server runner that migrates, builds the app, listens, and shuts down gracefully on SIGTERM.
import type { Redis } from 'ioredis';
import { type Config, loadConfig, loadDotenv } from './config.ts';
import {
  createDb,
  createPool,
  type Db,
  ensureDatabase,
  type MigrationSet,
  type Pool,
  pingDatabase,
  runMigrations,
} from './db.ts';
import type { App } from './http.ts';
import { createLogger, type Logger } from './logger.ts';
import { buildService } from './manifest/build.ts';
import type { ServiceManifest } from './manifest/define.ts';
import { connectNats, type NatsConnection, pingNats } from './nats.ts';
import { closeRedis, createRedis, pingRedis } from './queues.ts';

/**
 * V8 flags every service process starts with. Node 24 sizes the young generation from the heap limit
 * (up to 64 MB semi-spaces on this machine), and module loading alone grows it to the maximum: a service
 * idled at ~250 MB RSS. 16 MB semi-spaces (the long-standing default) idle at ~180 MB with no measurable
 * cost to request or batch throughput.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=16'];

export interface ServiceDeps {
  pool: Pool;
  db: Db;
  redis: Redis;
  nc: NatsConnection;
  log: Logger;
}

export async function createServiceDeps(config: Config, service: string): Promise<ServiceDeps> {
  const log = createLogger(config, service);
  const pool = createPool(config, service);
  const redis = createRedis(config);
  // Give Redis a moment to connect; a service still starts without it (readiness reports the outage).
  await new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    const t = setTimeout(resolve, 3_000);
    redis.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
  const nc = await connectNats(config, service);
  return { pool, db: createDb(pool), redis, nc, log };
}

export async function closeServiceDeps(deps: ServiceDeps): Promise<void> {
  await deps.nc.drain().catch(() => {});
  await closeRedis(deps.redis);
  await deps.pool.end().catch(() => {});
}

/** Registers the standard readiness checks of the three dependencies. */
export function addDependencyChecks(app: App, deps: ServiceDeps): void {
  app.addReadinessCheck('database', () => pingDatabase(deps.pool));
  app.addReadinessCheck('redis', () => pingRedis(deps.redis));
  app.addReadinessCheck('nats', () => pingNats(deps.nc));
}

export interface ServiceDefinition {
  name: string;
  port: (config: Config) => number;
  migrations: MigrationSet;
  build: (config: Config, deps: ServiceDeps) => Promise<App>;
}

/**
 * The process entry of a service (its manifest): config → database ready → deps → app → listen →
 * graceful stop (HTTP, then the manifest's consumers, workers and relay, then the connections).
 */
export async function runService<Ctx, O>(
  service: ServiceDefinition | ServiceManifest<Ctx, O>,
): Promise<void> {
  const def: ServiceDefinition =
    'build' in service
      ? service
      : {
          name: service.name,
          port: service.port,
          migrations: service.migrations,
          build: (config, deps) => buildService(service, config, deps),
        };
  await loadDotenv();
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`[${def.name}] ${(err as Error).message}`);
    process.exit(1);
  }
  const log = createLogger(config, def.name);
  if (config.INTERNAL_TOKEN_GENERATED) {
    log.warn(
      'INTERNAL_TOKEN is not set: this process generated a random one of its own, so requests forwarded ' +
        'by a gateway (signed with another secret) are refused with 401. Start the system with `pnpm start` ' +
        '(which shares one generated secret) or give every service the same INTERNAL_TOKEN.',
    );
  }
  await ensureDatabase(config.DATABASE_URL);
  const migratePool = createPool({ ...config, DATABASE_POOL_SIZE: 1 }, `${def.name}-migrate`);
  await runMigrations(migratePool, def.migrations);
  await migratePool.end();

  const deps = await createServiceDeps(config, def.name);
  const app = await def.build(config, deps);
  const port = def.port(config);
  await app.listen({ port, host: config.HOST });
  log.info({ port }, `${def.name} listening`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${def.name} shutting down`);
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      await app.close(); // drains HTTP, then the app's onClose hooks stop its workers and consumers
      await closeServiceDeps(deps);
    } finally {
      clearTimeout(force);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
