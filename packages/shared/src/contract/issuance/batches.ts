// Issuance's public contract, bulk generation: batches of pre-generated tickets, and the console's view
// of every partner's batches (see ../shared/api.md).
import { z } from 'zod';
import { defineRoute, idempotencyHeaders, pageOf, paginationQuery, productId, uuid } from '../common.ts';
import { batchStatus, partnerErrors, shortText } from './common.ts';
import { resellerRef } from './resellers.ts';

/**
 * A batch's free-form labels, shown back on every read of the batch: bounded so that a page of 500
 * batches stays small (an unbounded one let a 963 KB object through, ~500 MB per page).
 */
export const DISTRIBUTION_MAX_BYTES = 4096;
export const DISTRIBUTION_MAX_KEYS = 32;
const distribution = z
  .record(z.string(), z.unknown())
  .refine((d) => Object.keys(d).length <= DISTRIBUTION_MAX_KEYS, {
    message: `at most ${DISTRIBUTION_MAX_KEYS} keys`,
  })
  .refine((d) => Buffer.byteLength(JSON.stringify(d)) <= DISTRIBUTION_MAX_BYTES, {
    message: `at most ${DISTRIBUTION_MAX_BYTES} bytes as JSON`,
  })
  .meta({
    description: `Free-form labels (e.g. region, notes), returned with the batch: at most ${DISTRIBUTION_MAX_KEYS} keys and ${DISTRIBUTION_MAX_BYTES} bytes as JSON.`,
  });

export const bulkGenerateBody = z.object({
  product_id: productId,
  quantity: z.number().int().min(1).max(100_000),
  reseller_id: uuid,
  batch_reference: shortText(200).optional(),
  distribution: distribution.optional(),
});
export type BulkGenerateBody = z.infer<typeof bulkGenerateBody>;

export const batchAccepted = z
  .object({ batch_id: uuid, status: batchStatus, quantity: z.number().int(), poll_url: z.string() })
  .meta({ id: 'BatchAccepted' });
export type BatchAccepted = z.infer<typeof batchAccepted>;

export const batch = z
  .object({
    batch_id: uuid,
    status: batchStatus,
    product_id: z.number().int(),
    quantity: z.number().int(),
    generated: z.number().int(),
    reseller: resellerRef.nullable(),
    batch_reference: z.string().nullable(),
    distribution: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    expires_at: z.string(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Batch' });
export type Batch = z.infer<typeof batch>;

export const batchIdParams = z.object({ batch_id: uuid });

export const bulkGenerateRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/tickets/bulk-generate',
  operationId: 'bulkGenerateTickets',
  summary:
    "Hold units in the caller's reseller pool and generate PRE_GENERATED tickets asynchronously; poll the batch",
  tags: ['Bulk generation'],
  auth: 'partner',
  service: 'issuance',
  headers: idempotencyHeaders,
  body: bulkGenerateBody,
  response: { 202: batchAccepted },
  errors: [
    ...partnerErrors,
    'NOT_FOUND',
    'INSUFFICIENT_INVENTORY',
    'UNKNOWN_PRODUCT',
    'IDEMPOTENCY_KEY_REUSED',
    'SERVICE_UNAVAILABLE',
  ],
});

export const listBatchesRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/batches',
  operationId: 'listBatches',
  summary: "The caller's batches, newest first",
  tags: ['Bulk generation'],
  auth: 'partner',
  service: 'issuance',
  querystring: paginationQuery,
  response: { 200: pageOf(batch) },
  errors: [...partnerErrors],
});

export const getBatchRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/batches/:batch_id',
  operationId: 'getBatch',
  summary: 'A batch and its progress (`generated` grows while it runs)',
  tags: ['Bulk generation'],
  auth: 'partner',
  service: 'issuance',
  params: batchIdParams,
  response: { 200: batch },
  errors: [...partnerErrors, 'NOT_FOUND'],
});

export const batchTicketsCsvRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/batches/:batch_id/tickets.csv',
  operationId: 'getBatchTicketsCsv',
  summary: "The batch's tickets as CSV (batch_seq,ticket_code,status,created_at), streamed in sequence order",
  tags: ['Bulk generation'],
  auth: 'partner',
  service: 'issuance',
  params: batchIdParams,
  response: { 200: z.string().meta({ description: 'text/csv' }) },
  errors: [...partnerErrors, 'NOT_FOUND'],
});

// The operator console's view across partners.
export const adminBatch = batch.extend({ partner_id: uuid }).meta({ id: 'AdminBatch' });
export const adminBatchesQuery = paginationQuery.extend({
  status: z
    .union([batchStatus, z.literal('IN_PROGRESS')])
    .optional()
    .meta({ description: '`IN_PROGRESS` = QUEUED or RUNNING' }),
  partner_id: uuid.optional(),
});

/** The console's views across partners, which the partner API (scoped to the caller) cannot give. */
export const listAllBatchesRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/batches',
  operationId: 'listAllBatches',
  summary: 'Batches of every partner (or one), newest first; `status=IN_PROGRESS` for QUEUED or RUNNING',
  tags: ['Operators'],
  auth: 'admin',
  service: 'issuance',
  querystring: adminBatchesQuery,
  response: { 200: pageOf(adminBatch) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});
