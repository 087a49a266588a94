import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({
  name: 'redemption',
  port: (c) => c.REDEMPTION_PORT,
  migrations: migrationSet,
  build: buildApp,
});
