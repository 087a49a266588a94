export { signPayment } from '@cruise/shared';
export { batchJobOptions, buildApp, startBatchWorker } from './app.ts';
export { migrationSet } from './db/migrations.ts';
export { expireDueBatches } from './domain/batch-expiry.ts';
export { markBatchFailed } from './domain/batches.ts';
