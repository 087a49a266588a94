import { idempotencyTable } from '@cruise/shared';
import { inventorySchema } from './inventory-schema.ts';

/** Stored responses of POSTs sent with an Idempotency-Key (see `idempotent()` in @cruise/shared). */
export const idempotencyKeys = idempotencyTable(inventorySchema);
