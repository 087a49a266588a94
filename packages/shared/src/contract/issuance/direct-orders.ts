// Issuance's public contract, the operator's direct orders (see ../shared/api.md).
import { z } from 'zod';
import { customerType, defineRoute, idempotencyHeaders, isoDate, money, productId, uuid } from '../common.ts';
import { ticket } from './tickets.ts';

export const directOrderBody = z.object({
  product_id: productId,
  visit_date: isoDate,
  items: z
    .array(z.object({ customer_type: customerType, quantity: z.number().int().min(1).max(100) }))
    .min(1)
    .max(20),
});
export type DirectOrderBody = z.infer<typeof directOrderBody>;
export const directOrder = z
  .object({
    order_id: uuid,
    product_id: z.number().int(),
    visit_date: z.string(),
    total: money,
    tickets: z.array(ticket),
  })
  .meta({ id: 'DirectOrder' });
export type DirectOrder = z.infer<typeof directOrder>;

export const createDirectOrderRoute = defineRoute({
  method: 'POST',
  path: '/api/direct/orders',
  operationId: 'createDirectOrder',
  summary: "The operator's own sale from the direct pool: tickets ACTIVE at once, channel direct",
  tags: ['Operators'],
  auth: 'admin',
  service: 'issuance',
  headers: idempotencyHeaders,
  body: directOrderBody,
  response: { 201: directOrder },
  errors: [
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'INSUFFICIENT_INVENTORY',
    'UNKNOWN_PRODUCT',
    'UNKNOWN_CUSTOMER_TYPE',
    'IDEMPOTENCY_KEY_REUSED',
    'SERVICE_UNAVAILABLE',
  ],
});
