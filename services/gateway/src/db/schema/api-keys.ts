import { index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from './gateway-schema.ts';
import { partners } from './partners.ts';

/** Partner API keys. The key itself is shown once at creation and never stored. */
export const apiKeys = gatewaySchema.table(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    partnerId: uuid('partner_id')
      .notNull()
      .references(() => partners.id),
    /** The first characters of the key (`ck_live_AbCd`), so operators can tell keys apart. */
    prefix: text('prefix').notNull(),
    /** SHA-256 (hex) of the whole key: what a presented key is looked up by. */
    keyHash: text('key_hash').notNull().unique('api_keys_key_hash_unique'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set once; a revoked key is refused (within the auth cache's half second). */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_partner_idx').on(t.partnerId)],
);
