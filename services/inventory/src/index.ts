// The inventory package's root export: what the lead's start script and other tests use.
export { buildApp, type InventoryAppOptions } from './app.ts';
export { migrationSet } from './db/migrations.ts';
export { SEED_CATALOGUE, seedCatalogue } from './domain/catalogue.ts';
export { expireHolds } from './domain/expiry.ts';
export { checkLedger, rebuildPoolCounters } from './domain/ledger.ts';
export { SEED_PARTNER_ALLOCATIONS, seedPartnerPools, setAllocation } from './domain/pools.ts';
