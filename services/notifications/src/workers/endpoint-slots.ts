// The per-endpoint concurrency limit: a Redis ZSET per webhook whose members are the requests in flight
// (scored by their lease's expiry), shared by every dispatcher. A job takes as many slots as it may use
// (one for a single attempt, up to the limit for a batch of first attempts) and gives them back; leases
// lapse on their own when a dispatcher dies holding them.
import type { Redis } from 'ioredis';

/**
 * Drop expired leases, then take up to ARGV[5] slots while fewer than the limit (ARGV[3]) are held.
 * Returns how many were taken: members `<holder>:1` … `<holder>:<n>`.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = math.min(tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]), tonumber(ARGV[5]))
if n <= 0 then return 0 end
for i = 1, n do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return n`;

interface SlotCommands {
  acquireWebhookSlots(key: string, ...args: (string | number)[]): Promise<number>;
}

export interface EndpointSlots {
  /** Takes up to `want` free slots of the webhook; returns their names (none when all are held). */
  acquire(webhookId: string, holder: string, want: number): Promise<string[]>;
  /** Extends a held slot's lease (a long batch of requests). */
  renew(webhookId: string, slot: string): Promise<void>;
  release(webhookId: string, slots: string[]): Promise<void>;
}

export function endpointSlots(
  redis: Redis,
  opts: { keyPrefix: string; limit: number; leaseMs: number },
): EndpointSlots {
  // Registered once: ioredis then runs it by its SHA (EVALSHA) instead of sending the script every time.
  redis.defineCommand('acquireWebhookSlots', { numberOfKeys: 1, lua: ACQUIRE });
  const key = (webhookId: string) => `${opts.keyPrefix}:webhook-inflight:${webhookId}`;
  return {
    async acquire(webhookId, holder, want) {
      const now = Date.now();
      const n = await (redis as unknown as SlotCommands).acquireWebhookSlots(
        key(webhookId),
        now,
        now + opts.leaseMs,
        opts.limit,
        holder,
        Math.min(want, opts.limit),
        opts.leaseMs * 2,
      );
      return Array.from({ length: n }, (_, i) => `${holder}:${i + 1}`);
    },
    async renew(webhookId, slot) {
      // XX: a lease that already lapsed (and may have been handed on) is not taken back.
      await redis.zadd(key(webhookId), 'XX', Date.now() + opts.leaseMs, slot);
    },
    async release(webhookId, slots) {
      if (slots.length === 0) return;
      await redis.zrem(key(webhookId), ...slots).catch(() => {});
    },
  };
}
