import { idempotencyTable } from '@cruise/shared';
import { issuanceSchema } from './issuance-schema.ts';

export const idempotencyKeys = idempotencyTable(issuanceSchema);
