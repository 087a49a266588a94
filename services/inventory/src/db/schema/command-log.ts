import { jsonb, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';

/**
 * NATS commands already carried out, by the caller's reference (batch id, ref, order id). The primary
 * key makes a retried or concurrent duplicate wait for the first and get its stored reply.
 */
export const commandLog = inventorySchema.table(
  'command_log',
  {
    command: text('command').notNull(),
    ref: text('ref').notNull(),
    /** SHA-256 of the request: the same reference with a different request is refused. */
    requestHash: text('request_hash').notNull(),
    reply: jsonb('reply'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.command, t.ref] })],
);
