// @cruise/client: the typed API client (browser-safe). Node-only pieces live in `@cruise/client/node`.
export { ApiError, type Problem, type ProblemCode, retryAfterSeconds } from './api-error.ts';
export {
  type Batch,
  BatchFailedError,
  type BatchProgress,
  type WaitForBatchOptions,
  waitForBatch,
} from './batch-poller.ts';
export {
  type CruiseClient,
  type CruiseClientOptions,
  createCruiseClient,
  newIdempotencyKey,
  unwrap,
} from './client.ts';
export { csvRowCounter, downloadBatchCsv } from './csv-download.ts';
export type { components, operations, paths } from './generated/openapi.ts';
export { PAYMENT_SIGNATURE_HEADER, paymentSignatureV1, signPayment } from './payment-signature.ts';

import type { components } from './generated/openapi.ts';

/** The contract's objects by name: `Schemas['Reservation']`, `Schemas['Ticket']` … */
export type Schemas = components['schemas'];
