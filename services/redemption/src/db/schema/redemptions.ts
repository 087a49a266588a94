import { text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/** One row per redeemed entitlement; the unique constraint makes a second redemption impossible. */
export const redemptions = redemptionSchema.table(
  'redemptions',
  {
    ticketCode: text('ticket_code').notNull(),
    functionCode: text('function_code').notNull(),
    redeemedAt: timestamp('redeemed_at', { withTimezone: true }).notNull(),
    deviceId: uuid('device_id').notNull(),
    sessionCode: text('session_code'),
    nonce: text('nonce'),
  },
  (t) => [unique('redemptions_ticket_function_key').on(t.ticketCode, t.functionCode)],
);
