import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the gateway service stores lives in this PostgreSQL schema; no other service writes it. */
export const gatewaySchema = pgSchema('gateway');
