export { buildApp, type OctoAppOptions } from './app.ts';
export { migrationSet } from './db/migrations.ts';
