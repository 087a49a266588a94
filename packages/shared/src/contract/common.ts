// Building blocks of the public contract (../shared/api.md): money, ids, pagination, problems.
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { DATE_RANGE, isDateInRange, isValidDate } from '../time.ts';

export const PRODUCT_IDS = [106, 107, 108] as const;
/** Any integer product id: an unknown one is a business error (422 UNKNOWN_PRODUCT), not a type error. */
export const productId = z.coerce.number().int().positive().max(2_147_483_647);
export const customerType = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z_]+$/, 'lower-case letters and _ only');
export const currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code');
export const money = z.object({
  amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency,
});
export type Money = z.infer<typeof money>;

export const uuid = z.uuid();
const inRange = `between ${DATE_RANGE.min} and ${DATE_RANGE.max}`;
export const isoDate = z.string().refine(isValidDate, `must be a date YYYY-MM-DD ${inRange}`);
/** The date part (before any offset) must lie in the contract's calendar, like every date. */
export const isoDateTime = z
  .string()
  .datetime({ offset: true })
  .refine((v) => isDateInRange(v.slice(0, 10)), `must be a date-time ${inRange}`);
/** A date (`2026-11-24`) or date-time; used by list filters. */
export const dateOrDateTime = z.union([isoDate, isoDateTime]);
export const channel = z.enum(['direct', 'ota', 'reseller']);
export type Channel = z.infer<typeof channel>;
/** The channels of a partner's pools (`direct` is the operator's own). */
export const partnerChannel = channel.exclude(['direct']);
export const reservationStatus = z.enum(['ON_HOLD', 'CONFIRMED', 'EXPIRED', 'CANCELLED']);
export const ticketStatus = z.enum(['PRE_GENERATED', 'ACTIVE', 'USED', 'CANCELLED', 'EXPIRED']);
export type TicketStatus = z.infer<typeof ticketStatus>;
/** Every error code (problem+json `code`, command refusals). */
export const errorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);

/** `next_cursor` of a list page: opaque (base64url), issued by the server. */
export const listCursor = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, 'a next_cursor issued by this list');

export const paginationQuery = z.object({
  /** 1-based, default 1; not together with `cursor` (the gateway's document describes both). */
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  page_size: z.coerce.number().int().min(1).max(500).default(50),
  cursor: listCursor.optional(),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    /** With a cursor: the page's position in the walk (rows before it / page_size + 1). */
    page: z.number().int(),
    page_size: z.number().int(),
    total: z.number().int(),
    has_more: z.boolean(),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  });
}

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: errorCode,
    detail: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .meta({ id: 'Problem' });

export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional(),
});

/** Who may call a route: the gateway enforces it; the OpenAPI document shows it. */
export type RouteAuth = 'partner' | 'admin' | 'device' | 'public' | 'webhook' | 'partner-or-admin';
export type OwningService = 'gateway' | 'inventory' | 'issuance' | 'redemption' | 'notifications' | 'octo';

/** One public route: its schemas validate requests in the owning service and generate the OpenAPI document. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** fastify-style path, e.g. `/api/ota/reservations/:reservation_id`. */
  path: string;
  operationId: string;
  summary: string;
  /** Longer text for the document (optional). */
  description?: string;
  tags: string[];
  auth: RouteAuth;
  service: OwningService;
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  headers?: z.ZodObject;
  /** Success responses by status code. */
  response: Record<number, z.ZodType>;
  /** Error codes this route may answer, for the document. */
  errors: ErrorCode[];
}

export function defineRoute<const R extends RouteDef>(route: R): R {
  return route;
}

/** The fastify `schema` of a route definition (what the owning service registers). */
export function routeSchema(route: RouteDef) {
  return {
    ...(route.params ? { params: route.params } : {}),
    ...(route.querystring ? { querystring: route.querystring } : {}),
    ...(route.body ? { body: route.body } : {}),
    ...(route.headers ? { headers: route.headers } : {}),
    response: route.response,
    operationId: route.operationId,
    summary: route.summary,
    tags: route.tags,
  };
}
