import { outboxTable } from '@cruise/shared';
import { inventorySchema } from './inventory-schema.ts';

export const outbox = outboxTable(inventorySchema);
