import { integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { gatewaySchema } from './gateway-schema.ts';

export const partnerStatusEnum = gatewaySchema.enum('partner_status', ['ACTIVE', 'SUSPENDED']);

/** OTA partners: who may call /api/ota/* with an API key. */
export const partners = gatewaySchema.table('partners', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  /** SUSPENDED partners are refused with 403 PARTNER_SUSPENDED; their keys stay valid for reactivation. */
  status: partnerStatusEnum('status').notNull().default('ACTIVE'),
  /** Requests per rolling minute; null means the deployment's RATE_LIMIT_PER_MINUTE. */
  rateLimitPerMinute: integer('rate_limit_per_minute'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
