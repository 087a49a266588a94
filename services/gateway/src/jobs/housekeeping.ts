// Hourly housekeeping, as manifest jobs (one BullMQ scheduler for every replica, so each pass runs
// once): stored Idempotency-Key answers after 48 h, audit rows after AUDIT_RETENTION_DAYS.
import { purgeReplies } from '@cruise/shared';
import { purgeAuditLog } from '../audit/audit-log.ts';
import type { GatewayContext } from '../context.ts';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';

export function purgeOldIdempotencyKeys(ctx: GatewayContext): Promise<number> {
  return purgeReplies(ctx.pool, idempotencyKeys);
}

export function purgeOldAuditRows(ctx: GatewayContext): Promise<number> {
  return purgeAuditLog(ctx.pool, ctx.config.AUDIT_RETENTION_DAYS);
}
