import { idempotencyTable } from '@cruise/shared';
import { gatewaySchema } from './gateway-schema.ts';

/** Responses of operator POSTs that create (partners, API keys), replayed for a repeated Idempotency-Key. */
export const idempotencyKeys = idempotencyTable(gatewaySchema);
