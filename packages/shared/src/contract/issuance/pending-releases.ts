// Issuance's public contract, the operator's view of pool releases inventory has not taken yet.
import { z } from 'zod';
import { channel, defineRoute, pageOf, paginationQuery } from '../common.ts';

/** A pool release issuance recorded (ticket cancelled or expired, batch failed) that inventory has not acknowledged. */
export const pendingRelease = z
  .object({
    ref: z
      .string()
      .describe('Idempotency reference inventory applies the release under (e.g. `cancel:<ticket_code>`)'),
    partner_id: z.uuid().nullable().describe('The pool owner; null for the direct pool'),
    product_id: z.number().int(),
    channel,
    from: z.enum(['held', 'sold']).describe('Which pool counter the units leave'),
    quantity: z.number().int(),
    reason: z.enum(['cancel', 'expire']),
    attempts: z.number().int().describe('Sends that failed or were refused so far'),
    last_error: z
      .string()
      .nullable()
      .describe('The last refusal (`CODE: detail`) or transport error; a refusal waits for an operator'),
    created_at: z.string(),
  })
  .meta({ id: 'PendingRelease' });
export type PendingRelease = z.infer<typeof pendingRelease>;

export const listPendingReleasesRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/pending-releases',
  operationId: 'listPendingReleases',
  summary: 'Pool releases waiting for inventory (oldest first)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'issuance',
  querystring: paginationQuery,
  response: { 200: pageOf(pendingRelease) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});
