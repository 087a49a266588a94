// `pnpm migrate`: creates the database when missing and applies every service's migrations.
import { createPool, ensureDatabase, loadConfig, loadDotenv, runMigrations } from '@cruise/shared';
import { migrationSets } from './migration-sets.ts';

await loadDotenv();
const config = loadConfig();
await ensureDatabase(config.DATABASE_URL);
const pool = createPool({ ...config, DATABASE_POOL_SIZE: 1 }, 'migrate');
try {
  for (const set of migrationSets) {
    await runMigrations(pool, set);
    console.log(`migrated schema ${set.schema}`);
  }
} finally {
  await pool.end();
}
