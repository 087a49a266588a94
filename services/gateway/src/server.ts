import { runService } from '@cruise/shared';
import { buildApp } from './app.ts';
import { migrationSet } from './db/migrations.ts';

await runService({ name: 'gateway', port: (c) => c.GATEWAY_PORT, migrations: migrationSet, build: buildApp });
