// `pnpm seed`: migrate and seed without starting the services (docker compose runs it once).
import { loadConfig, loadDotenv } from '@cruise/shared';
import { prepareDatabase } from './prepare-database.ts';

await loadDotenv();
await prepareDatabase(loadConfig());
