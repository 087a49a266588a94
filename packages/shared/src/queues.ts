// The BullMQ queue and job catalog, and Redis connections. Never rename a live queue.
import { Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { settleWithin } from './bounded.ts';
import type { Config } from './config.ts';

export const QUEUES = {
  batchGeneration: 'batch-generation',
  reservationExpiry: 'reservation-expiry',
  batchExpiry: 'batch-expiry',
  webhookDelivery: 'webhook-delivery',
  eventRetention: 'event-retention',
} as const;

export const jobSchemas = {
  [QUEUES.batchGeneration]: z.object({ batch_id: z.uuid() }),
  [QUEUES.reservationExpiry]: z.object({}).passthrough(),
  [QUEUES.batchExpiry]: z.object({}).passthrough(),
  /**
   * Either one attempt of one delivery (`attempt` is the attempt number the delivery row expects; the
   * retries), or `drain`: the due first attempts of one webhook, claimed and sent in batches.
   */
  [QUEUES.webhookDelivery]: z.union([
    z.object({
      delivery_id: z.uuid(),
      /** The delivery's webhook, so the per-endpoint slot is taken before anything is read. */
      webhook_id: z.uuid(),
      attempt: z.number().int().positive(),
    }),
    z.object({ webhook_id: z.uuid(), drain: z.literal(true) }),
  ]),
  [QUEUES.eventRetention]: z.object({}).passthrough(),
} as const;

export type JobPayload<Q extends keyof typeof jobSchemas> = z.infer<(typeof jobSchemas)[Q]>;

/** BullMQ's key prefix under the deployment's Redis prefix. */
export function bullPrefix(config: Pick<Config, 'REDIS_PREFIX'>): string {
  return `${config.REDIS_PREFIX}:bull`;
}

/**
 * A Redis connection. `blocking` connections (BullMQ workers) must never give up on a command;
 * request-path connections fail fast so a Redis outage degrades instead of hanging requests.
 */
export function createRedis(
  config: Pick<Config, 'REDIS_URL'>,
  kind: 'request' | 'blocking' = 'request',
): Redis {
  const options: RedisOptions =
    kind === 'blocking'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : {
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
          commandTimeout: 1_000,
          enableOfflineQueue: false,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
        };
  const redis = new Redis(config.REDIS_URL, { lazyConnect: false, ...options });
  redis.on('error', () => {}); // reconnects on its own; readiness reports the outage
  return redis;
}

/**
 * Ends a connection without failing the commands still in flight: QUIT is answered after every command
 * sent before it, so each pending promise settles with its reply. `disconnect()` alone rejects them with
 * "Connection is closed", and a caller that no longer listens (a scrape that timed out, a BullMQ
 * internal) surfaces that as an unhandled rejection. Bounded: a connection that cannot answer (Redis
 * down, reconnecting) is dropped after `graceMs`.
 */
export async function closeRedis(redis: Redis, graceMs = 2_000): Promise<void> {
  if (redis.status === 'ready') await settleWithin(redis.quit(), graceMs);
  redis.disconnect();
}

/**
 * Waits, bounded, for BullMQ queues and workers to finish their start-up handshake before they are
 * closed. Each BullMQ connection starts with an INFO (the server's version) that nothing awaits: closed
 * under it, BullMQ rejects promises it never handles, and an unhandled rejection ends a Node process.
 * Bounded because a Redis that is down never answers (the close goes on after `graceMs`).
 */
export async function bullHandshakes(
  objects: Iterable<{ waitUntilReady(): Promise<unknown> }>,
  graceMs = 2_000,
): Promise<void> {
  await settleWithin(Promise.allSettled([...objects].map((o) => o.waitUntilReady())), graceMs);
}

export async function pingRedis(redis: Redis): Promise<void> {
  const pong = await redis.ping();
  if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
}
