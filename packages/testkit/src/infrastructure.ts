// Where the tests' PostgreSQL, Redis and NATS come from: TEST_* URLs or the local defaults when they
// answer, otherwise testcontainers when a Docker engine is reachable, otherwise a failure naming what is missing.
import { Redis } from 'ioredis';
import { connect } from 'nats';
import pg from 'pg';

export interface Infrastructure {
  /** A PostgreSQL URL whose user may create databases (its database part is ignored). */
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  /** Stops containers this run started (no-op for local services). */
  stop(): Promise<void>;
}

const local = {
  databaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
};

async function reachable(kind: 'postgres' | 'redis' | 'nats', url: string): Promise<boolean> {
  try {
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
      await c.connect();
      await c.end();
    } else if (kind === 'redis') {
      const r = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 2_000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      r.on('error', () => {});
      await r.connect();
      await r.ping();
      r.disconnect();
    } else {
      const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
      const jsm = await nc.jetstreamManager(); // JetStream must be enabled, not only core NATS
      await jsm.getAccountInfo();
      await nc.close();
    }
    return true;
  } catch {
    return false;
  }
}

async function dockerReachable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function resolveInfrastructure(): Promise<Infrastructure> {
  const [pgOk, redisOk, natsOk] = await Promise.all([
    reachable('postgres', local.databaseUrl),
    reachable('redis', local.redisUrl),
    reachable('nats', local.natsUrl),
  ]);
  if (pgOk && redisOk && natsOk) return { ...local, stop: async () => {} };

  const missing = [
    !pgOk && `PostgreSQL (${local.databaseUrl}, TEST_DATABASE_URL)`,
    !redisOk && `Redis (${local.redisUrl}, TEST_REDIS_URL)`,
    !natsOk && `NATS with JetStream (${local.natsUrl}, TEST_NATS_URL)`,
  ].filter(Boolean) as string[];
  if (!(await dockerReachable())) {
    throw new Error(
      `Integration tests need real services. Not reachable: ${missing.join('; ')}. ` +
        'Start them locally (see README) or make a Docker engine reachable for testcontainers.',
    );
  }
  return startContainers({ pgOk, redisOk, natsOk });
}

async function startContainers(have: {
  pgOk: boolean;
  redisOk: boolean;
  natsOk: boolean;
}): Promise<Infrastructure> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started: { stop(): Promise<unknown> }[] = [];
  const result = { ...local };
  if (!have.pgOk) {
    const c = await new GenericContainer('postgres:15-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    started.push(c);
    result.databaseUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
  }
  if (!have.redisOk) {
    const c = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
      .withExposedPorts(6379)
      .start();
    started.push(c);
    result.redisUrl = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
  }
  if (!have.natsOk) {
    const c = await new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .start();
    started.push(c);
    result.natsUrl = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
  }
  return {
    ...result,
    async stop() {
      await Promise.all(started.map((c) => c.stop()));
    },
  };
}
