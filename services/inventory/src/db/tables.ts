// The schema-qualified names of inventory's tables for the statements written as SQL, taken from the
// drizzle definitions (db/schema) so that a table or schema is named in one place.
import { sqlName } from '@cruise/shared';
import { inventoryLedger } from './schema/inventory-ledger.ts';
import { pools } from './schema/pools.ts';
import { prices } from './schema/prices.ts';
import { productFunctions } from './schema/product-functions.ts';
import { products } from './schema/products.ts';
import { reservations } from './schema/reservations.ts';

export const table = {
  inventory_ledger: sqlName(inventoryLedger),
  pools: sqlName(pools),
  prices: sqlName(prices),
  product_functions: sqlName(productFunctions),
  products: sqlName(products),
  reservations: sqlName(reservations),
} as const;
