// The per-endpoint concurrency limit: a Redis ZSET per webhook whose members are the requests in flight
// (scored by their lease's expiry), shared by every dispatcher. Every request to a receiver holds a slot;
// leases lapse on their own when a dispatcher dies holding them. A job that finds every slot taken can
// leave a "wanted" mark: whoever gives a slot back next takes the mark and hands the work on.
import type { Redis } from 'ioredis';

/**
 * Drop expired leases, then take up to ARGV[5] slots while fewer than the limit (ARGV[3]) are held:
 * members `<holder>:<first>` … (ARGV[6] = first). None free and ARGV[8] = '1': leave the wanted mark.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = math.min(tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]), tonumber(ARGV[5]))
if n <= 0 then
  if ARGV[8] == '1' then redis.call('SET', KEYS[2], '1', 'PX', ARGV[9]) end
  return 0
end
local first = tonumber(ARGV[6])
for i = first, first + n - 1 do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return n`;

/** Give the slots (ARGV) back; returns 1 when a job had left the wanted mark (which is taken). */
const RELEASE = `
redis.call('ZREM', KEYS[1], unpack(ARGV))
if redis.call('DEL', KEYS[2]) == 1 then return 1 end
return 0`;

interface SlotCommands {
  acquireWebhookSlots(key: string, wanted: string, ...args: (string | number)[]): Promise<number>;
  releaseWebhookSlots(key: string, wanted: string, ...slots: string[]): Promise<number>;
}

export interface EndpointSlots {
  /**
   * Takes up to `want` free slots of the webhook, named from `<holder>:<first>` on; returns their
   * names. None free: `markWanted` leaves the mark that the next slot given back reports.
   */
  acquire(
    webhookId: string,
    holder: string,
    want: number,
    opts?: { first?: number; markWanted?: boolean },
  ): Promise<string[]>;
  /** Extends a held slot's lease (a long batch of requests). */
  renew(webhookId: string, slot: string): Promise<void>;
  /** Gives slots back; true when a job found none free meanwhile and left the wanted mark. */
  release(webhookId: string, slots: string[]): Promise<boolean>;
}

export function endpointSlots(
  redis: Redis,
  opts: { keyPrefix: string; limit: number; leaseMs: number },
): EndpointSlots {
  // Registered once: ioredis then runs them by their SHA (EVALSHA) instead of sending the script.
  redis.defineCommand('acquireWebhookSlots', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('releaseWebhookSlots', { numberOfKeys: 2, lua: RELEASE });
  const commands = redis as unknown as SlotCommands;
  const key = (webhookId: string) => `${opts.keyPrefix}:webhook-inflight:${webhookId}`;
  const wanted = (webhookId: string) => `${opts.keyPrefix}:webhook-wanted:${webhookId}`;
  return {
    async acquire(webhookId, holder, want, { first = 1, markWanted = false } = {}) {
      const now = Date.now();
      const n = await commands.acquireWebhookSlots(
        key(webhookId),
        wanted(webhookId),
        now,
        now + opts.leaseMs,
        opts.limit,
        holder,
        Math.min(want, opts.limit),
        first,
        opts.leaseMs * 2,
        markWanted ? '1' : '0',
        // A mark outlives any holder's lease; a stale one costs one job that finds nothing to do.
        600_000,
      );
      return Array.from({ length: n }, (_, i) => `${holder}:${first + i}`);
    },
    async renew(webhookId, slot) {
      // XX: a lease that already lapsed (and may have been handed on) is not taken back.
      await redis.zadd(key(webhookId), 'XX', Date.now() + opts.leaseMs, slot);
    },
    async release(webhookId, slots) {
      if (slots.length === 0) return false;
      return (await commands.releaseWebhookSlots(key(webhookId), wanted(webhookId), ...slots)) === 1;
    },
  };
}
