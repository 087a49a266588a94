// The schema-qualified names of the gateway's tables for the statements written as SQL, taken from the
// drizzle definitions (db/schema) so that a table or schema is named in one place.
import { sqlName } from '@cruise/shared';
import { auditLog } from './schema/index.ts';

export const table = {
  audit_log: sqlName(auditLog),
} as const;
