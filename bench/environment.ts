// The bench's own corner of the machine's PostgreSQL, Redis and NATS: a dedicated database and a Redis/NATS
// prefix unique to this run, created at the start and removed at the end whatever happens in between.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { databaseUrl, dropDatabase } from '@cruise/testkit';
import pg from 'pg';

const fromTestkit = createRequire(createRequire(import.meta.url).resolve('@cruise/testkit'));

export interface BenchEnvironment {
  id: string;
  databaseName: string;
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  /** Used as REDIS_PREFIX and NATS_PREFIX. */
  prefix: string;
  pool: import('pg').Pool;
  /** A client pool of `max` connections on the bench database (raw baselines). */
  newPool(max: number, name?: string): import('pg').Pool;
  teardown(): Promise<void>;
}

export async function createBenchEnvironment(): Promise<BenchEnvironment> {
  const server =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const natsUrl = process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const id = randomBytes(4).toString('hex');
  const databaseName = `cruise_bench_${id}`;
  const prefix = `bench${id}`;
  const admin = new pg.Client({ connectionString: databaseUrl(server, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${databaseName}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(server, databaseName);
  const pools: import('pg').Pool[] = [];
  const newPool = (max: number, name = 'bench') => {
    const p = new pg.Pool({ connectionString: url, max, application_name: name });
    p.on('error', () => {});
    pools.push(p);
    const end = p.end.bind(p);
    let ended: Promise<void> | undefined;
    // Ended by its user or at teardown, whichever comes first (pg refuses a second end()).
    p.end = (() => (ended ??= end())) as typeof p.end;
    return p;
  };
  const pool = newPool(4, 'bench-harness');
  return {
    id,
    databaseName,
    databaseUrl: url,
    redisUrl,
    natsUrl,
    prefix,
    pool,
    newPool,
    async teardown() {
      await Promise.allSettled(pools.map((p) => p.end()));
      await Promise.allSettled([
        dropDatabase(server, databaseName),
        deleteRedisPrefix(redisUrl, prefix),
        deleteNatsStream(natsUrl, prefix),
      ]);
    },
  };
}

interface RedisLike {
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  disconnect(): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const { Redis } = fromTestkit('ioredis') as { Redis: new (url: string) => RedisLike };
  const redis = new Redis(url);
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function deleteNatsStream(url: string, prefix: string): Promise<void> {
  const { streamName } = await import('@cruise/shared');
  const { connect } = fromTestkit('nats') as {
    connect(opts: { servers: string }): Promise<{
      jetstreamManager(): Promise<{ streams: { delete(name: string): Promise<boolean> } }>;
      close(): Promise<void>;
    }>;
  };
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(streamName(prefix)).catch(() => false);
  } finally {
    await nc.close();
  }
}
