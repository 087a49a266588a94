import { pgSchema } from 'drizzle-orm/pg-core';

/** Everything the notifications service stores lives in this PostgreSQL schema; no other service writes it. */
export const notificationsSchema = pgSchema('notifications');
