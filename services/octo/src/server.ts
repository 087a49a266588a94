import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({
  name: 'octo',
  port: (c) => c.OCTO_PORT,
  migrations: migrationSet,
  build: buildApp,
});
