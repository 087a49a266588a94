// The bench's own corner of the machine's PostgreSQL, Redis and NATS: a dedicated database and a Redis/NATS
// prefix unique to this run, created at the start and removed at the end whatever happens in between.
import { randomBytes } from 'node:crypto';
import { databaseUrl, deleteRedisPrefix, deleteStream, dropDatabase } from '@cruise/testkit';
import pg from 'pg';

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
        deleteStream(natsUrl, prefix),
      ]);
    },
  };
}
