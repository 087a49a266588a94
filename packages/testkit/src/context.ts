// Per-test-file isolation: a fresh database from the template, a Redis key prefix and a NATS subject
// prefix of its own, and the Config every service under test is built with.
import { randomBytes } from 'node:crypto';
import { type Config, loadConfig, streamName } from '@cruise/shared';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { cloneTemplate, databaseUrl, dropDatabase } from './databases.ts';

export interface TestInfra {
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testInfra: TestInfra;
  }
}

export interface TestContext {
  id: string;
  config: Config;
  /** The same configuration as environment variables, for services started as processes. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function createTestContext(overrides: Record<string, string> = {}): Promise<TestContext> {
  // Imported here, not at the top: the global setup loads this package outside a test worker.
  const { inject } = await import('vitest');
  const infra = inject('testInfra');
  if (!infra) throw new Error('testInfra was not provided: run the tests through the root vitest config');
  const id = `t${randomBytes(5).toString('hex')}`;
  const dbName = `cruise_${id}`;
  await cloneTemplate(infra.databaseUrl, infra.template, dbName);
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl(infra.databaseUrl, dbName),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: id,
    NATS_URL: infra.natsUrl,
    NATS_PREFIX: id,
    // The deployment's internal signing secret, given explicitly as `pnpm start` does: every service
    // this file starts (in process or as a process) shares it.
    INTERNAL_TOKEN: randomBytes(32).toString('base64url'),
    ...overrides,
  };
  const config = loadConfig(env);
  return {
    id,
    config,
    env,
    async cleanup() {
      await Promise.allSettled([
        dropDatabase(infra.databaseUrl, dbName),
        deleteRedisPrefix(infra.redisUrl, id),
        deleteStream(infra.natsUrl, id),
      ]);
    },
  };
}

/** Deletes every Redis key under `prefix:` (a test file's or a bench run's keys). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
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

/** Deletes the JetStream event stream of `prefix` (and with it its consumers). */
export async function deleteStream(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(streamName(prefix)).catch(() => {});
  } finally {
    await nc.close();
  }
}
