import { boolean, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/** Venue scanners. The key is shown once at creation; only its SHA-256 is stored. */
export const devices = redemptionSchema.table('devices', {
  deviceId: uuid('device_id').primaryKey(),
  venue: text('venue').notNull(),
  name: text('name').notNull(),
  /** Hex SHA-256 of the device key; unique so a key identifies exactly one device. */
  keyHash: text('key_hash').notNull().unique('devices_key_hash_key'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /**
   * Whether staff may type a ticket code instead of scanning a QR token. A typed code skips the QR
   * clock (expiry, supersession), so operators turn it off where only fresh QR codes should pass.
   */
  manualEntry: boolean('manual_entry').notNull().default(true),
  /** Set by DELETE /api/admin/devices/{id}; a revoked device's key is refused from then on. */
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
