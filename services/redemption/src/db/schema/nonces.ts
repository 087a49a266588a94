import { index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/**
 * A scanner's retry key: the first scan with a (device, nonce) stores its answer here in the same
 * transaction as its effect, and a retry gets that answer back instead of being evaluated again.
 */
export const nonces = redemptionSchema.table(
  'nonces',
  {
    deviceId: uuid('device_id').notNull(),
    nonce: text('nonce').notNull(),
    /** SHA-256 of the scan request: the same nonce with another request is refused, not replayed. */
    requestHash: text('request_hash').notNull(),
    /** Filled before the claiming transaction commits, so a committed row always has an answer. */
    statusCode: integer('status_code'),
    body: jsonb('body'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.nonce] }), index('nonces_created_idx').on(t.createdAt)],
);
