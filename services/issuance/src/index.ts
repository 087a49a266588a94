export { signPayment } from '@cruise/shared';
export { batchJobOptions, buildApp, startBatchWorker } from './app.ts';
export { migrationSet } from './db/migrations.ts';
