export { buildApp, webhookSecretSealer } from './app.ts';
export { migrationSet } from './db/migrations.ts';
export { nextRetryDelayMs, RETRY_WINDOW_MS } from './domain/retry-schedule.ts';
