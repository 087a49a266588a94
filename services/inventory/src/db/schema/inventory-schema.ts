import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the inventory service stores lives in this PostgreSQL schema; no other service writes it. */
export const INVENTORY_SCHEMA = 'inventory';
export const inventorySchema = pgSchema(INVENTORY_SCHEMA);
