import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the issuance service stores lives in this PostgreSQL schema; no other service writes it. */
export const issuanceSchema = pgSchema('issuance');
