import { outboxTable } from '@cruise/shared';
import { issuanceSchema } from './issuance-schema.ts';

export const outbox = outboxTable(issuanceSchema);
