// Public routes owned by the gateway service (see ../shared/api.md, "Operators"): partners, their
// API keys and the audit log. Everything else the gateway serves is forwarded to its owning service.
import { z } from 'zod';
import {
  dateOrDateTime,
  defineRoute,
  idempotencyHeaders,
  pageOf,
  paginationQuery,
  type RouteDef,
  uuid,
} from './common.ts';

export const partnerStatus = z.enum(['ACTIVE', 'SUSPENDED']);
export type PartnerStatus = z.infer<typeof partnerStatus>;

/**
 * Requests per rolling minute; absent means the deployment's default (`RATE_LIMIT_PER_MINUTE`). The
 * limit is exact (a log of each request in the window), hence bounded.
 */
export const rateLimitPerMinute = z.number().int().min(1).max(100_000);

export const partnerIdParams = z.object({ partner_id: uuid });

export const createPartnerBody = z.object({
  name: z.string().trim().min(1).max(200),
  rate_limit_per_minute: rateLimitPerMinute.optional(),
});

export const createdPartner = z
  .object({
    partner_id: uuid,
    name: z.string(),
    /** The partner's first API key, shown once: only its SHA-256 is stored. */
    api_key: z.string(),
    rate_limit_per_minute: z.number().int(),
    status: partnerStatus,
  })
  .meta({ id: 'CreatedPartner' });

export const updatePartnerBody = z
  .object({
    status: partnerStatus.optional(),
    /** `null` returns the partner to the deployment's default limit. */
    rate_limit_per_minute: rateLimitPerMinute.nullable().optional(),
  })
  .refine((b) => b.status !== undefined || b.rate_limit_per_minute !== undefined, {
    message: 'give status and/or rate_limit_per_minute',
  });

export const apiKeySummary = z.object({
  key_id: uuid,
  /** The first characters of the key, to tell keys apart; never enough to use it. */
  prefix: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});

export const partner = z
  .object({
    partner_id: uuid,
    name: z.string(),
    status: partnerStatus,
    rate_limit_per_minute: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    api_keys: z.array(apiKeySummary),
  })
  .meta({ id: 'Partner' });

export const createdApiKey = z.object({
  key_id: uuid,
  /** Shown once: only its SHA-256 is stored. */
  api_key: z.string(),
  prefix: z.string(),
  created_at: z.string(),
});

export const apiKeyParams = z.object({ partner_id: uuid, key_id: uuid });

export const actorKind = z.enum(['partner', 'admin', 'device', 'webhook', 'anonymous']);
export type ActorKind = z.infer<typeof actorKind>;

export const auditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    request_id: z.string(),
    /** Who called: `device` means a device key was presented (the redemption service checks it). */
    actor_kind: actorKind,
    partner_id: uuid.nullable(),
    method: z.string(),
    /** The route pattern, e.g. `/api/ota/reservations/:reservation_id`; null when no route matched. */
    route: z.string().nullable(),
    path: z.string(),
    status: z.number().int(),
    duration_ms: z.number(),
    client_ip: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const auditQuery = paginationQuery.extend({
  partner_id: uuid.optional(),
  /** Inclusive; a date means its start (00:00 UTC). */
  from: dateOrDateTime.optional(),
  /** Exclusive; a date means its start (00:00 UTC). */
  to: dateOrDateTime.optional(),
});

export const createPartnerRoute = defineRoute({
  method: 'POST',
  path: '/api/admin/partners',
  operationId: 'createPartner',
  summary: 'Create a partner and its first API key (shown once)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  headers: idempotencyHeaders,
  body: createPartnerBody,
  response: { 201: createdPartner },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'IDEMPOTENCY_KEY_REUSED'],
});

export const listPartnersRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/partners',
  operationId: 'listPartners',
  summary: 'List partners, newest first',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  querystring: paginationQuery,
  response: { 200: pageOf(partner) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const getPartnerRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/partners/:partner_id',
  operationId: 'getPartner',
  summary: 'A partner with its API keys (prefixes only)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  params: partnerIdParams,
  response: { 200: partner },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'],
});

export const updatePartnerRoute = defineRoute({
  method: 'PATCH',
  path: '/api/admin/partners/:partner_id',
  operationId: 'updatePartner',
  summary: 'Suspend or reactivate a partner, or change its rate limit (effective within a second)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  params: partnerIdParams,
  body: updatePartnerBody,
  response: { 200: partner },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'],
});

export const createApiKeyRoute = defineRoute({
  method: 'POST',
  path: '/api/admin/partners/:partner_id/api-keys',
  operationId: 'createApiKey',
  summary: 'Issue another API key for a partner (shown once)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  params: partnerIdParams,
  headers: idempotencyHeaders,
  response: { 201: createdApiKey },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND', 'IDEMPOTENCY_KEY_REUSED'],
});

export const revokeApiKeyRoute = defineRoute({
  method: 'DELETE',
  path: '/api/admin/partners/:partner_id/api-keys/:key_id',
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key (stops working within 1 second; repeating is harmless)',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  params: apiKeyParams,
  response: { 204: z.null() },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'],
});

export const listAuditRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/audit',
  operationId: 'listAudit',
  summary: 'Audit log entries, newest first',
  tags: ['Operators'],
  auth: 'admin',
  service: 'gateway',
  querystring: auditQuery,
  response: { 200: pageOf(auditEntry) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const gatewayRoutes: RouteDef[] = [
  createPartnerRoute,
  listPartnersRoute,
  getPartnerRoute,
  updatePartnerRoute,
  createApiKeyRoute,
  revokeApiKeyRoute,
  listAuditRoute,
];
