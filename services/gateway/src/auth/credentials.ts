// Reading credentials from a request and resolving API keys. Key lookups are cached in memory; a
// revocation, suspension or limit change is pushed to every instance over Redis pub/sub, and without
// that channel entries live half a second, so a revoked key stops working within a second everywhere.
import { bearerToken, type Pool, safeEqual, sha256Hex } from '@cruise/shared';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { findKeyByHash, type KeyIdentity } from '../domain/partners.ts';

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedApiKey(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer) return bearer;
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}

export function isAdminToken(request: FastifyRequest, adminToken: string): boolean {
  const token = bearerToken(request);
  return token !== undefined && safeEqual(token, adminToken);
}

export interface KeyResolver {
  resolve(apiKey: string): Promise<KeyIdentity | undefined>;
  /** Drops what is cached for a partner (all of them without one) on this instance. */
  invalidate(partnerId?: string): void;
  /** Is the invalidation channel live (entries then live up to `ttlMs`, else `fallbackTtlMs`)? */
  live(): boolean;
  close(): Promise<void>;
}

/** Our keys are ~52 characters; anything far longer is not worth a database round trip. */
const MAX_KEY_LENGTH = 256;

/** The Redis pub/sub channel on which every gateway instance hears that a partner's keys changed. */
export const keyChangesChannel = (redisPrefix: string) => `${redisPrefix}:gateway:key-changes`;

/**
 * Tells every gateway instance (this one included) that a partner's keys or status changed, after the
 * change committed. A failed publish is retried; instances that cannot hear it are on the short TTL.
 */
export async function announceKeyChange(redis: Redis, redisPrefix: string, partnerId: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await redis.publish(keyChangesChannel(redisPrefix), JSON.stringify({ partner_id: partnerId }));
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
  throw lastError;
}

/**
 * Key lookups cached in memory. While this instance is subscribed to the key-changes channel an entry
 * lives up to `ttlMs` (a minute): a revocation, suspension or limit change is pushed to every instance
 * the moment it commits and drops the partner's entries. Whenever the subscription is not live (Redis
 * unreachable, not yet connected, reconnecting) entries live only `fallbackTtlMs` (half a second) and
 * the cache is emptied when it comes back (messages may have been missed), so a revoked key stops
 * working within a second either way. Unknown keys are cached for `fallbackTtlMs` only.
 */
export function createKeyResolver(
  pool: Pool,
  opts: {
    /** A connection of its own is duplicated from it for the subscription. */
    redis?: Redis;
    redisPrefix?: string;
    ttlMs?: number;
    fallbackTtlMs?: number;
    maxEntries?: number;
    log?: Pick<FastifyBaseLogger, 'warn'>;
  } = {},
): KeyResolver {
  const ttlMs = opts.ttlMs ?? 60_000;
  const fallbackTtlMs = opts.fallbackTtlMs ?? 500;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, { readAt: number; identity: KeyIdentity | undefined }>();
  // Concurrent requests with one key share a single lookup.
  const pending = new Map<string, Promise<KeyIdentity | undefined>>();
  // Bumped by every invalidation: a lookup that started before one is not cached (it may be stale).
  let generation = 0;
  let subscribed = false;

  function invalidate(partnerId?: string) {
    generation++;
    if (partnerId === undefined) {
      cache.clear();
      return;
    }
    for (const [hash, entry] of cache) if (entry.identity?.partnerId === partnerId) cache.delete(hash);
  }

  let subscriber: Redis | undefined;
  if (opts.redis) {
    const channel = keyChangesChannel(opts.redisPrefix ?? 'cruise');
    // Subscribed by hand on every (re)connection: `subscribed` turns true only once Redis confirmed it.
    subscriber = opts.redis.duplicate({
      enableOfflineQueue: true,
      commandTimeout: undefined,
      autoResubscribe: false,
    });
    const sub = subscriber;
    sub.on('error', () => {}); // reconnects on its own; entries are short-lived meanwhile
    sub.on('message', (_channel: string, message: string) => {
      try {
        const { partner_id } = JSON.parse(message) as { partner_id?: unknown };
        invalidate(typeof partner_id === 'string' ? partner_id : undefined);
      } catch {
        invalidate();
      }
    });
    const down = () => {
      subscribed = false;
    };
    sub.on('close', down);
    sub.on('end', down);
    sub.on('reconnecting', down);
    sub.on('ready', () => {
      sub
        .subscribe(channel)
        .then(() => {
          if (sub.status !== 'ready') return;
          // Changes announced while we were not listening: forget everything read before now.
          invalidate();
          subscribed = true;
        })
        .catch((err) => opts.log?.warn({ err }, 'key-changes subscription failed; short-lived key cache'));
    });
  }

  return {
    async resolve(apiKey) {
      if (apiKey.length > MAX_KEY_LENGTH) return undefined;
      const hash = sha256Hex(apiKey);
      const cached = cache.get(hash);
      // Age counts from when the lookup started, so staleness never exceeds the TTL.
      const ttl = subscribed && cached?.identity ? ttlMs : fallbackTtlMs;
      if (cached && performance.now() - cached.readAt < ttl) return cached.identity;
      const running = pending.get(hash);
      if (running) return running;
      const readAt = performance.now();
      const startedAt = generation;
      const lookup = findKeyByHash(pool, hash)
        .then((identity) => {
          if (generation === startedAt) {
            if (cache.size >= maxEntries) cache.clear();
            cache.set(hash, { readAt, identity });
          }
          return identity;
        })
        .finally(() => pending.delete(hash));
      pending.set(hash, lookup);
      return lookup;
    },
    invalidate,
    live: () => subscribed,
    async close() {
      subscribed = false;
      subscriber?.disconnect();
    },
  };
}
