import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({
  name: 'issuance',
  port: (c) => c.ISSUANCE_PORT,
  migrations: migrationSet,
  build: buildApp,
});
