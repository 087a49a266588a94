// Rolling-minute rate limits. Normally a sliding log in Redis (one ZSET per partner, device or client
// IP, updated atomically by a Lua script on Redis's own clock), so every instance of the gateway and
// of redemption shares one count. When Redis is unreachable each instance falls back to the same algorithm in its own memory:
// limits stay enforced (per instance) instead of failing open or failing every request.
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Redis } from 'ioredis';

export const WINDOW_MS = 60_000;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the oldest counted request leaves the window, i.e. until a unit of quota returns. */
  resetSeconds: number;
}

export type RateLimiterMode = 'redis' | 'fallback';

export interface RateLimiter {
  /** Counts one request against `key`; with `cost: 0` only tells whether one more would be allowed. */
  consume(key: string, limit: number, cost?: 0 | 1): Promise<RateDecision>;
  mode(): RateLimiterMode;
  close(): void;
}

// KEYS[1] the log; ARGV: window ms, limit, unique member, cost (0 = only look). Returns {allowed, count, ms until oldest expires}.
const SLIDING_LOG = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  allowed = 1
  if ARGV[4] == '1' then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    count = count + 1
  end
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}
`;

type SlidingLogRedis = Redis & {
  slidingLog(
    key: string,
    windowMs: number,
    limit: number,
    member: string,
    cost: number,
  ): Promise<[number, number, number]>;
};

function decision(allowed: boolean, limit: number, count: number, resetMs: number): RateDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
  };
}

/** The same sliding log in process memory: used only while Redis is unreachable. */
export class InMemorySlidingLog {
  private readonly logs = new Map<string, number[]>();

  consume(key: string, limit: number, now = Date.now(), cost: 0 | 1 = 1): RateDecision {
    let entries = this.logs.get(key);
    if (!entries) {
      entries = [];
      this.logs.set(key, entries);
    }
    // Oldest first: drop from the front what has left the window (cheap even for large limits).
    while (entries.length > 0 && entries[0]! <= now - WINDOW_MS) entries.shift();
    const allowed = entries.length < limit;
    if (allowed && cost === 1) entries.push(Math.max(now, entries.at(-1) ?? now));
    const oldest = entries[0];
    const resetMs = oldest === undefined ? WINDOW_MS : oldest + WINDOW_MS - now;
    return decision(allowed, limit, entries.length, resetMs);
  }

  /** Forgets logs with nothing left in the window, so memory follows the active callers only. */
  prune(now = Date.now()): void {
    for (const [key, entries] of this.logs) {
      if ((entries.at(-1) ?? 0) <= now - WINDOW_MS) this.logs.delete(key);
    }
  }
}

export function createRateLimiter(redis: Redis, log: Logger): RateLimiter {
  const r = redis as SlidingLogRedis;
  if (typeof r.slidingLog !== 'function') {
    r.defineCommand('slidingLog', { numberOfKeys: 1, lua: SLIDING_LOG });
  }
  const memory = new InMemorySlidingLog();
  const instance = randomBytes(6).toString('hex');
  let sequence = 0;
  let degraded = false;
  let probing = false;

  const fallBack = (reason: unknown) => {
    if (degraded) return;
    degraded = true;
    log.warn(
      { err: reason instanceof Error ? reason.message : String(reason) },
      'Redis unreachable: rate limits now enforced per instance in memory',
    );
  };

  // While degraded, requests do not wait on Redis; a probe watches for its return.
  const probe = setInterval(() => {
    if (!degraded || probing || redis.status !== 'ready') return;
    probing = true;
    redis
      .ping()
      .then(() => {
        degraded = false;
        log.info('Redis reachable again: rate limits shared across instances once more');
      })
      .catch(() => {})
      .finally(() => {
        probing = false;
      });
  }, 1_000);
  probe.unref();
  const sweep = setInterval(() => memory.prune(), WINDOW_MS);
  sweep.unref();

  return {
    async consume(key, limit, cost = 1) {
      if (!degraded) {
        if (redis.status === 'ready') {
          try {
            const member = `${instance}:${++sequence}`;
            const [allowed, count, resetMs] = await r.slidingLog(key, WINDOW_MS, limit, member, cost);
            return decision(allowed === 1, limit, count, resetMs);
          } catch (err) {
            fallBack(err);
          }
        } else {
          fallBack(new Error(`Redis connection is ${redis.status}`));
        }
      }
      return memory.consume(key, limit, Date.now(), cost);
    },
    mode: () => (degraded ? 'fallback' : 'redis'),
    close() {
      clearInterval(probe);
      clearInterval(sweep);
    },
  };
}
