import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the issuance service stores lives in this PostgreSQL schema; no other service writes it. */
export const ISSUANCE_SCHEMA = 'issuance';
export const issuanceSchema = pgSchema(ISSUANCE_SCHEMA);
