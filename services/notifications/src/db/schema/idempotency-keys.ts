import { idempotencyTable } from '@cruise/shared';
import { notificationsSchema } from './notifications-schema.ts';

/** Idempotency-Key records of POST /api/ota/webhooks (the stored response keeps the secret sealed). */
export const idempotencyKeys = idempotencyTable(notificationsSchema);
