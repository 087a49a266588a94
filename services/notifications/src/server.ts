import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({
  name: 'notifications',
  port: (c) => c.NOTIFICATIONS_PORT,
  migrations: migrationSet,
  build: buildApp,
});
