// The expiry sweep: one BullMQ job scheduler (every EXPIRY_SWEEP_SECONDS, upserted by this name, so any
// number of instances keep one schedule) runs `expireHolds`; the domain function claims its rows with
// SKIP LOCKED. The same pass purges old Idempotency-Key records. Queue and scheduler keep their live names.
import { purgeReplies, QUEUES } from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';
import { expireHolds } from '../domain/expiry.ts';

export const EXPIRY_SCHEDULER_ID = 'reservation-expiry-sweep';
export const EXPIRY_QUEUE = QUEUES.reservationExpiry;

export async function sweepExpiredHolds(ctx: InventoryContext): Promise<{ expired: number }> {
  const expired = await expireHolds(ctx.pool, new Date());
  // Stored Idempotency-Key responses are kept 48 h (the contract promises at least 24 h).
  await purgeReplies(ctx.pool, idempotencyKeys);
  if (expired > 0) {
    ctx.log.info({ expired }, 'expired reservation holds');
    ctx.metrics.reservations.inc({ outcome: 'expired' }, expired);
  }
  return { expired };
}
