import { fileURLToPath } from 'node:url';
import type { MigrationSet } from '@cruise/shared';

export const migrationSet: MigrationSet = {
  schema: 'octo',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
};
