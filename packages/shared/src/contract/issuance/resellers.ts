// Issuance's public contract, resellers (see ../shared/api.md).
import { z } from 'zod';
import { defineRoute, idempotencyHeaders, pageOf, paginationQuery, uuid } from '../common.ts';
import { email, partnerErrors, resellerStatus, shortText } from './common.ts';

export const resellerRef = z.object({ reseller_id: uuid, name: z.string(), status: resellerStatus });

const commissionRate = z.number().min(0).max(1);
export const createResellerBody = z.object({
  name: shortText(200),
  contact_email: email.optional(),
  region: shortText(200).optional(),
  commission_rate: commissionRate.optional(),
});
export const updateResellerBody = z
  .object({
    name: shortText(200).optional(),
    contact_email: email.nullable().optional(),
    region: shortText(200).nullable().optional(),
    commission_rate: commissionRate.nullable().optional(),
    status: resellerStatus.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field' });
export type CreateResellerBody = z.infer<typeof createResellerBody>;
export type UpdateResellerBody = z.infer<typeof updateResellerBody>;

export const reseller = z
  .object({
    reseller_id: uuid,
    name: z.string(),
    contact_email: z.string().nullable(),
    region: z.string().nullable(),
    commission_rate: z.number().nullable(),
    status: resellerStatus,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Reseller' });
export type Reseller = z.infer<typeof reseller>;
export const resellerIdParams = z.object({ reseller_id: uuid });
export const resellerListQuery = paginationQuery.extend({ status: resellerStatus.optional() });

export const createResellerRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/resellers',
  operationId: 'createReseller',
  summary: 'Register one of the caller’s sub-resellers',
  tags: ['Resellers'],
  auth: 'partner',
  service: 'issuance',
  headers: idempotencyHeaders,
  body: createResellerBody,
  response: { 201: reseller },
  errors: [...partnerErrors, 'IDEMPOTENCY_KEY_REUSED'],
});

export const listResellersRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/resellers',
  operationId: 'listResellers',
  summary: "The caller's resellers, newest first",
  tags: ['Resellers'],
  auth: 'partner',
  service: 'issuance',
  querystring: resellerListQuery,
  response: { 200: pageOf(reseller) },
  errors: [...partnerErrors],
});

export const getResellerRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/resellers/:reseller_id',
  operationId: 'getReseller',
  summary: "One of the caller's resellers (another partner's → 404)",
  tags: ['Resellers'],
  auth: 'partner',
  service: 'issuance',
  params: resellerIdParams,
  response: { 200: reseller },
  errors: [...partnerErrors, 'NOT_FOUND'],
});

export const updateResellerRoute = defineRoute({
  method: 'PATCH',
  path: '/api/ota/resellers/:reseller_id',
  operationId: 'updateReseller',
  summary: 'Change a reseller (null clears an optional field)',
  tags: ['Resellers'],
  auth: 'partner',
  service: 'issuance',
  params: resellerIdParams,
  body: updateResellerBody,
  response: { 200: reseller },
  errors: [...partnerErrors, 'NOT_FOUND'],
});

export const deleteResellerRoute = defineRoute({
  method: 'DELETE',
  path: '/api/ota/resellers/:reseller_id',
  operationId: 'deleteReseller',
  summary:
    'Delete a reseller. One referenced by tickets or batches is kept as INACTIVE (200 with the reseller) ' +
    'so history stays intact; one never used is removed (204)',
  tags: ['Resellers'],
  auth: 'partner',
  service: 'issuance',
  params: resellerIdParams,
  response: { 200: reseller, 204: z.null() },
  errors: [...partnerErrors, 'NOT_FOUND'],
});
