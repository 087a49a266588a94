import { idempotencyTable } from '@cruise/shared';
import { redemptionSchema } from './redemption-schema.ts';

/** Idempotency-Key records of POST /api/admin/devices. */
export const idempotencyKeys = idempotencyTable(redemptionSchema);
