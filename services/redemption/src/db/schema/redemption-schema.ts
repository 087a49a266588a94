import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the redemption service stores lives in this PostgreSQL schema; no other service writes it. */
export const redemptionSchema = pgSchema('redemption');
