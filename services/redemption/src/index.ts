export { buildApp } from './app.ts';
export { migrationSet } from './db/migrations.ts';
