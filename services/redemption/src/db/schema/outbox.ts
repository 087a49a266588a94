import { outboxTable } from '@cruise/shared';
import { redemptionSchema } from './redemption-schema.ts';

export const outbox = outboxTable(redemptionSchema);
