import { sql } from 'drizzle-orm';
import { check, integer, primaryKey, text } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';
import { products } from './products.ts';

/** The price matrix: one row per customer type a product is sold to, in minor units of the product's currency. */
export const prices = inventorySchema.table(
  'prices',
  {
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    customerType: text('customer_type').notNull(),
    /** Monday to Friday in the venue's time zone. */
    weekdayAmount: integer('weekday_amount').notNull(),
    /** Saturday and Sunday in the venue's time zone. */
    weekendAmount: integer('weekend_amount').notNull(),
    position: integer('position').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.productId, t.customerType] }),
    check('prices_amounts_check', sql`${t.weekdayAmount} >= 0 AND ${t.weekendAmount} >= 0`),
  ],
);
