// Hourly housekeeping, as manifest jobs (one BullMQ scheduler for every replica, so each pass runs
// once): stored Idempotency-Key answers after 48 h, audit rows after AUDIT_RETENTION_DAYS.
import { purgeIdempotencyKeys } from '@cruise/shared';
import { purgeAuditLog } from '../audit/audit-log.ts';
import type { GatewayContext } from '../context.ts';
import { gatewaySchema } from '../db/schema/gateway-schema.ts';

export function purgeOldIdempotencyKeys(ctx: GatewayContext): Promise<number> {
  return purgeIdempotencyKeys(ctx.pool, gatewaySchema.schemaName);
}

export function purgeOldAuditRows(ctx: GatewayContext): Promise<number> {
  return purgeAuditLog(ctx.pool, ctx.config.AUDIT_RETENTION_DAYS);
}
