import { integer, text, timestamp } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/**
 * The version of the newest QR token issued per ticket. Issuing a token increments it atomically, so a
 * token carrying a lower version is superseded.
 */
export const qrVersions = redemptionSchema.table('qr_versions', {
  ticketCode: text('ticket_code').primaryKey(),
  version: integer('version').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
