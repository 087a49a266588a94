import { outboxTable } from '@cruise/shared';
import { gatewaySchema } from './gateway-schema.ts';

export const outbox = outboxTable(gatewaySchema);
