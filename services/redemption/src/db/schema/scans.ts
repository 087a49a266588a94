import { bigserial, boolean, index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/** Every scan a device made, accepted or rejected, for audit and dispute handling. */
export const scans = redemptionSchema.table(
  'scans',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: uuid('device_id').notNull(),
    venue: text('venue').notNull(),
    sessionCode: text('session_code'),
    scannedAt: timestamp('scanned_at', { withTimezone: true }).notNull().defaultNow(),
    /** `ACCEPTED` or the rejection's error code (e.g. `QR_EXPIRED`). */
    outcome: text('outcome').notNull(),
    httpStatus: integer('http_status').notNull(),
    /** Null when the scanned code could not be trusted (malformed or forged token). */
    ticketCode: text('ticket_code'),
    functionCode: text('function_code').notNull(),
    nonce: text('nonce'),
    /** True when the ticket code was typed in (manual entry) rather than read from a QR token. */
    manualEntry: boolean('manual_entry').notNull().default(false),
    /** True when the answer was the stored response of an earlier scan with the same nonce. */
    replayed: boolean('replayed').notNull().default(false),
  },
  (t) => [
    index('scans_ticket_idx').on(t.ticketCode, t.scannedAt),
    index('scans_device_idx').on(t.deviceId, t.scannedAt),
  ],
);
