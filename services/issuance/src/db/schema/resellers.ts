import { sql } from 'drizzle-orm';
import { check, index, numeric, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

/** A partner's sub-resellers: who a batch is distributed to and who sold an activated ticket. */
export const resellers = issuanceSchema.table(
  'resellers',
  {
    resellerId: uuid('reseller_id').primaryKey(),
    /** The owning partner; every query filters on it. */
    partnerId: uuid('partner_id').notNull(),
    name: text('name').notNull(),
    contactEmail: text('contact_email'),
    region: text('region'),
    /** Fraction of the sale the reseller keeps (0..1), 4 decimals. */
    commissionRate: numeric('commission_rate', { precision: 5, scale: 4, mode: 'number' }),
    /** INACTIVE: deleted while tickets or batches still reference it (history is kept). */
    status: text('status').$type<'ACTIVE' | 'INACTIVE'>().notNull().default('ACTIVE'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('resellers_partner_created_idx').on(t.partnerId, t.createdAt.desc(), t.resellerId.desc()),
    check('resellers_status_check', sql`${t.status} IN ('ACTIVE', 'INACTIVE')`),
  ],
);
