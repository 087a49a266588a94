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

// The same log, charged a block of units at once for one instance to spend (see `LeaseOptions`).
// KEYS[1] the log; ARGV: window ms, limit, member prefix, units wanted, lease ms, reserve factor.
// Grants min(wanted, remaining / factor) units, at least 1 while any remain: near the limit every
// request is charged on its own, exactly as by SLIDING_LOG. A block of several units is scored at the
// lease's end, the latest moment one of them can be spent, so each counts for at least a whole window
// after its request; a single unit is scored now. Returns {granted, count, ms until oldest expires}.
const SLIDING_LOG_LEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local wanted = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local factor = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local granted = 0
if count < limit then
  granted = math.max(1, math.min(wanted, math.floor((limit - count) / factor)))
  if granted == 1 then
    redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':1')
  else
    for i = 1, granted do
      redis.call('ZADD', KEYS[1], now + lease, ARGV[3] .. ':' .. i)
    end
  end
  count = count + granted
end
redis.call('PEXPIRE', KEYS[1], window + lease)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {granted, count, reset}
`;

type SlidingLogRedis = Redis & {
  slidingLog(
    key: string,
    windowMs: number,
    limit: number,
    member: string,
    cost: number,
  ): Promise<[number, number, number]>;
  slidingLogLease(
    key: string,
    windowMs: number,
    limit: number,
    memberPrefix: string,
    units: number,
    leaseMs: number,
    factor: number,
  ): Promise<[number, number, number]>;
};

/**
 * Charging a busy budget in blocks: one Redis call charges up to `units` requests of a budget at once,
 * and this instance spends them on its next requests for that budget within `ms`; what is left then is
 * handed back (ZREM). A block is granted only while at least `reserveFactor` times its size remains in
 * the budget, so near the limit every request is charged on its own, exactly as without leases, and a
 * block never makes the shared count pass the limit: a partner is never admitted more than its limit
 * in any rolling minute, on any number of instances. What a block changes: for at most `ms` its unspent
 * units count against the budget (other instances may see up to that many fewer remaining), and each
 * spent unit is scored at the block's end instead of its request's arrival (counted up to `ms` longer).
 */
export interface LeaseOptions {
  units: number;
  ms: number;
  reserveFactor: number;
}

export const DEFAULT_LEASE: LeaseOptions = { units: 32, ms: 250, reserveFactor: 64 };

interface Lease {
  limit: number;
  /** Members are `<prefix>:<i>`, i = 1…granted; the next one to spend is `next`. */
  prefix: string;
  next: number;
  granted: number;
  /** The log's count before the block was charged. */
  base: number;
  expiresAt: number;
  resetAt: number;
  timer: NodeJS.Timeout;
}

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

export function createRateLimiter(
  redis: Redis,
  log: Logger,
  opts: {
    /** Charge busy budgets in blocks (`LeaseOptions`); off: one Redis call per request. */
    lease?: LeaseOptions;
  } = {},
): RateLimiter {
  const r = redis as SlidingLogRedis;
  if (typeof r.slidingLog !== 'function') {
    r.defineCommand('slidingLog', { numberOfKeys: 1, lua: SLIDING_LOG });
  }
  if (typeof r.slidingLogLease !== 'function') {
    r.defineCommand('slidingLogLease', { numberOfKeys: 1, lua: SLIDING_LOG_LEASE });
  }
  const memory = new InMemorySlidingLog();
  const instance = randomBytes(6).toString('hex');
  let sequence = 0;
  const leaseOpts = opts.lease;
  const leases = new Map<string, Lease>();
  // One block request per budget at a time: requests arriving meanwhile wait for it and spend from it.
  const leasing = new Map<string, Promise<void>>();
  // Budgets whose last charge granted a single unit (near the limit): charged in parallel, no waiting.
  const single = new Set<string>();

  /** Hands a block's unspent units back (fire and forget: unreturned ones leave the window anyway). */
  function release(key: string, lease: Lease): void {
    clearTimeout(lease.timer);
    if (leases.get(key) === lease) leases.delete(key);
    if (lease.next > lease.granted) return;
    const members: string[] = [];
    for (let i = lease.next; i <= lease.granted; i++) members.push(`${lease.prefix}:${i}`);
    lease.next = lease.granted + 1;
    if (redis.status === 'ready') redis.zrem(key, ...members).catch(() => {});
  }

  function spendLeased(key: string, limit: number): RateDecision | undefined {
    const lease = leases.get(key);
    if (!lease) return undefined;
    const now = performance.now();
    if (lease.limit !== limit || now >= lease.expiresAt || lease.next > lease.granted) {
      release(key, lease);
      return undefined;
    }
    const spent = lease.next++;
    const d = decision(true, limit, lease.base + spent, lease.resetAt - now);
    if (lease.next > lease.granted) release(key, lease);
    return d;
  }

  async function chargeLeased(key: string, limit: number, lease: LeaseOptions): Promise<RateDecision> {
    const prefix = `${instance}:${++sequence}`;
    // The block may be spent until `ms` after the call was sent, which is no later than Redis's `now`.
    const sentAt = performance.now();
    const [granted, count, resetMs] = await r.slidingLogLease(
      key,
      WINDOW_MS,
      limit,
      prefix,
      lease.units,
      lease.ms,
      lease.reserveFactor,
    );
    if (granted === 0) return decision(false, limit, count, resetMs);
    const base = count - granted;
    if (granted === 1) single.add(key);
    else {
      single.delete(key);
      const previous = leases.get(key);
      if (previous) release(key, previous);
      const held: Lease = {
        limit,
        prefix,
        next: 2,
        granted,
        base,
        expiresAt: sentAt + lease.ms,
        resetAt: sentAt + resetMs,
        timer: setTimeout(() => release(key, held), Math.max(0, sentAt + lease.ms - performance.now())),
      };
      held.timer.unref();
      leases.set(key, held);
    }
    return decision(true, limit, base + 1, resetMs);
  }

  async function consumeLeased(key: string, limit: number, lease: LeaseOptions): Promise<RateDecision> {
    let waited = false;
    for (;;) {
      const spent = spendLeased(key, limit);
      if (spent) return spent;
      const running = leasing.get(key);
      if (running && !waited) {
        waited = true;
        await running;
        continue;
      }
      // Near the limit (single units), or already waited once: charged on its own, in parallel.
      if (waited || single.has(key) || running) return chargeLeased(key, limit, lease);
      const charge = chargeLeased(key, limit, lease);
      const done = charge.then(
        () => undefined,
        () => undefined,
      );
      leasing.set(key, done);
      void done.finally(() => {
        if (leasing.get(key) === done) leasing.delete(key);
      });
      return charge;
    }
  }
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
            if (leaseOpts && cost === 1 && limit >= 2 * leaseOpts.reserveFactor) {
              return await consumeLeased(key, limit, leaseOpts);
            }
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
      for (const [key, lease] of leases) release(key, lease);
    },
  };
}
