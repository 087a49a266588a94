import { fileURLToPath } from 'node:url';
import type { MigrationSet } from '@cruise/shared';
import { ISSUANCE_SCHEMA } from './schema/issuance-schema.ts';

export const migrationSet: MigrationSet = {
  schema: ISSUANCE_SCHEMA,
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
};
