import { index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { notificationsSchema } from './notifications-schema.ts';

/** A partner's subscription: where to POST which event types, and the secret deliveries are signed with. */
export const webhooks = notificationsSchema.table(
  'webhooks',
  {
    webhookId: uuid('webhook_id').primaryKey(),
    partnerId: uuid('partner_id').notNull(),
    url: text('url').notNull(),
    /** Subscribed event types, or `{*}` for all. */
    events: text('events').array().notNull(),
    description: text('description'),
    /** `ENABLED` or `DISABLED` (by the partner, or by a 410 answer). */
    status: text('status').$type<'ENABLED' | 'DISABLED'>().notNull(),
    /** The signing secret (`whsec_…`), sealed with AES-256-GCM: signing needs the plain secret back. */
    secretSealed: text('secret_sealed').notNull(),
    /** The secret before the last rotation, sealed; deliveries carry its signature too until it expires. */
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhooks_partner_idx').on(t.partnerId, t.createdAt)],
);
