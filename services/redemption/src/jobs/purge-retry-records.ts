// Retry records expire: Idempotency-Keys after 48 h, scan nonces after 7 days. A manifest job (one
// BullMQ scheduler for all replicas), so each hourly pass runs once.
import { purgeReplies } from '@cruise/shared';
import type { RedemptionContext } from '../context.ts';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';
import { purgeNonces } from '../domain/redeem.ts';

export async function purgeRetryRecords(ctx: RedemptionContext): Promise<{ keys: number; nonces: number }> {
  const [keys, nonces] = await Promise.all([purgeReplies(ctx.pool, idempotencyKeys), purgeNonces(ctx.pool)]);
  return { keys, nonces };
}
