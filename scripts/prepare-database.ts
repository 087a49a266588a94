// Creates the database if missing, applies every service's migrations and seeds the catalogue and the
// demo partner (idempotent). The demo partner's API key is printed only when it is created.
import { seedDemoPartner } from '@cruise/gateway';
import { seedCatalogue, seedPartnerPools } from '@cruise/inventory';
import { type Config, createPool, ensureDatabase, runMigrations } from '@cruise/shared';
import { migrationSets } from './migration-sets.ts';

/** The demo partner, with its API key only when this call created it. */
export async function prepareDatabase(
  config: Config,
): Promise<{ partner_id: string; api_key: string | null }> {
  await ensureDatabase(config.DATABASE_URL);
  const pool = createPool({ ...config, DATABASE_POOL_SIZE: 2 }, 'prepare-database');
  try {
    for (const set of migrationSets) await runMigrations(pool, set);
    await seedCatalogue(pool);
    const demo = await seedDemoPartner(pool);
    await seedPartnerPools(pool, demo.partner_id);
    if (demo.api_key) {
      console.log(
        [
          '',
          '  Demo partner created. Its API key is shown only this once:',
          `    partner_id: ${demo.partner_id}`,
          `    api_key:    ${demo.api_key}`,
          '',
        ].join('\n'),
      );
    }
    return demo;
  } finally {
    await pool.end();
  }
}
