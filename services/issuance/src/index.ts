export { batchJobOptions, buildApp, startBatchWorker } from './app.ts';
export { migrationSet } from './db/migrations.ts';
export { signPayment } from '@cruise/shared';
