import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({
  name: 'inventory',
  port: (c) => c.INVENTORY_PORT,
  migrations: migrationSet,
  build: buildApp,
});
