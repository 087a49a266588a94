import { integer, primaryKey, text } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';
import { products } from './products.ts';

/** A product's entitlements (function codes): what a ticket of the product lets its holder do. */
export const productFunctions = inventorySchema.table(
  'product_functions',
  {
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    functionCode: text('function_code').notNull(),
    name: text('name').notNull(),
    /** Redemption order on a ticket. */
    position: integer('position').notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.functionCode] })],
);
