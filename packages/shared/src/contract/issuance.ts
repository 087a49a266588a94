// Public routes owned by the issuance service (see ../shared/api.md): the payment webhook, tickets,
// bulk generation, resellers, reports, and the operator's direct orders.
import { z } from 'zod';
import {
  channel,
  customerType,
  dateOrDateTime,
  defineRoute,
  idempotencyHeaders,
  isoDate,
  isoDateTime,
  money,
  pageOf,
  paginationQuery,
  productId,
  type RouteDef,
  uuid,
} from './common.ts';

export const ticketStatus = z.enum(['PRE_GENERATED', 'ACTIVE', 'USED', 'CANCELLED', 'EXPIRED']);
export type TicketStatus = z.infer<typeof ticketStatus>;
export const batchStatus = z.enum(['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED']);
export const resellerStatus = z.enum(['ACTIVE', 'INACTIVE']);

const email = z.string().trim().max(320).email();
const shortText = (max: number) => z.string().trim().min(1).max(max);

// ---------------------------------------------------------------- payment webhook

export const paymentNotification = z.object({
  payment_id: shortText(255),
  reservation_id: uuid,
  status: z.enum(['SUCCEEDED', 'FAILED']),
  amount: money,
  paid_at: isoDateTime.optional(),
});
export type PaymentNotification = z.infer<typeof paymentNotification>;

export const paymentSignatureHeaders = z.object({
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`; checked by the service itself. */
  'x-payment-signature': z.string().max(1024).optional(),
});

// ---------------------------------------------------------------- tickets

export const ticket = z
  .object({
    ticket_code: z.string(),
    product_id: z.number().int(),
    status: ticketStatus,
    channel: z.enum(['direct', 'ota', 'reseller']),
    reservation_id: uuid.nullable(),
    batch_id: uuid.nullable(),
    order_id: uuid.nullable(),
    reseller: z.object({ reseller_id: uuid, name: z.string() }).nullable(),
    customer_type: z.string().nullable(),
    price: money.nullable(),
    customer: z.object({ name: z.string().nullable(), email: z.string().nullable() }).nullable(),
    order_reference: z.string().nullable(),
    entitlements: z.array(z.object({ function_code: z.string(), redeemed_at: z.string().nullable() })),
    created_at: z.string(),
    activated_at: z.string().nullable(),
    used_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
    expired_at: z.string().nullable(),
  })
  .meta({ id: 'Ticket' });
export type Ticket = z.infer<typeof ticket>;

export const ticketListQuery = paginationQuery.extend({
  status: ticketStatus.optional(),
  batch_id: uuid.optional(),
  reservation_id: uuid.optional(),
  reseller_id: uuid.optional(),
  product_id: productId.optional(),
  /** Inclusive; a date means its start (00:00 UTC). */
  created_from: dateOrDateTime.optional(),
  /** Exclusive; a date means its start (00:00 UTC). */
  created_to: dateOrDateTime.optional(),
});
export type TicketListQuery = z.infer<typeof ticketListQuery>;

export const ticketPage = pageOf(ticket)
  .extend({
    /** True when `total` stopped counting at 10,000 (see the description). */
    total_is_lower_bound: z.boolean(),
  })
  .meta({
    id: 'TicketPage',
    description:
      'Newest first (creation time, then insertion order); with batch_id, highest batch sequence first. ' +
      '`total` is exact up to 10,000 matches; beyond that it is a lower bound and `total_is_lower_bound` ' +
      'is true (counting a million rows on every page would make the list slow; use the reports for totals).',
  });

export const ticketCodeParams = z.object({ ticket_code: z.string().min(1).max(64) });

export const activateTicketBody = z.object({
  customer_type: customerType,
  customer: z.object({ name: shortText(200), email: email.optional() }),
  reseller_id: uuid.optional(),
  order_reference: shortText(200).optional(),
});
export type ActivateTicketBody = z.infer<typeof activateTicketBody>;

// ---------------------------------------------------------------- bulk generation

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

export const resellerRef = z.object({ reseller_id: uuid, name: z.string(), status: resellerStatus });

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

// ---------------------------------------------------------------- resellers

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

// ---------------------------------------------------------------- reports

export const reportPeriodQuery = z
  .object({ from: isoDate, to: isoDate })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] });

const billingCounts = {
  issued: z.number().int(),
  activated: z.number().int(),
  used: z.number().int(),
  cancelled: z.number().int(),
  gross: money,
};
export const billingSummary = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string(),
    totals: z.object(billingCounts),
    by_reseller: z.array(z.object({ reseller_id: uuid, name: z.string(), ...billingCounts })),
    by_product: z.array(z.object({ product_id: z.number().int(), ...billingCounts })),
  })
  .meta({
    id: 'BillingSummary',
    description:
      'The period is the UTC days from `from` to `to`, both included. Each ticket of the caller counts ' +
      'by the time of its own events: `issued` = tickets created in the period (whatever their status now; ' +
      'pre-generated batch tickets included); `activated` = tickets whose activated_at is in the period ' +
      '(paid OTA tickets are activated when issued); `used` = used_at in the period; `cancelled` = ' +
      'cancelled_at in the period; `gross` = sum of the price of tickets activated in the period that are ' +
      "ACTIVE or USED now (a cancelled ticket is not billed). `by_reseller` groups by the ticket's " +
      "reseller (the batch's reseller, or the reseller that sold it on activation); `by_product` by product.",
  });

const reconciliationRow = z.object({
  product_id: z.number().int(),
  channel: z.enum(['ota', 'reseller']),
  allocated: z.number().int(),
  held: z.number().int(),
  sold: z.number().int(),
  available: z.number().int(),
  activated: z.number().int(),
  used: z.number().int(),
  expired: z.number().int(),
  cancelled: z.number().int(),
  tickets_pre_generated: z.number().int(),
  tickets_sold: z.number().int(),
});
export const reconciliationReport = z
  .object({ from: z.string(), to: z.string(), as_of: z.string(), rows: z.array(reconciliationRow) })
  .meta({
    id: 'ReconciliationReport',
    description:
      'One row per product and channel of the caller. `allocated`, `held`, `sold`, `available` are the ' +
      "pool counters now (inventory). `activated`, `used`, `expired`, `cancelled` count the caller's " +
      'tickets of that product and channel whose activated_at / used_at / expired_at / cancelled_at falls ' +
      'in the UTC days `from`..`to` (both included). `tickets_sold` = the tickets ACTIVE or USED now and ' +
      '`tickets_pre_generated` = PRE_GENERATED now, whatever their dates: when every unit went through ' +
      "this system, `sold` equals `tickets_sold`, and the reseller pool's `held` equals " +
      "`tickets_pre_generated` plus units held for batches still being generated (the ota pool's `held` " +
      'is reservations on hold, which have no tickets yet).',
  });

export type BillingSummary = z.infer<typeof billingSummary>;
export type ReconciliationReport = z.infer<typeof reconciliationReport>;

// ---------------------------------------------------------------- direct orders

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

// ---------------------------------------------------------------- routes

const partnerErrors = ['VALIDATION_FAILED', 'UNAUTHORIZED'] as const;

export const paymentNotifyRoute = defineRoute({
  method: 'POST',
  path: '/payments/notify',
  operationId: 'notifyPayment',
  summary:
    'Payment provider webhook: a signed SUCCEEDED confirms the reservation and issues its tickets; ' +
    'FAILED leaves the hold as it is. Idempotent by payment_id (same body on every repeat); the same payment_id for another reservation or amount is 422 IDEMPOTENCY_KEY_REUSED.',
  tags: ['Payments'],
  auth: 'webhook',
  service: 'issuance',
  headers: paymentSignatureHeaders,
  body: paymentNotification,
  response: {
    200: z
      .object({
        payment_id: z.string(),
        reservation_id: uuid,
        reservation_status: z.enum(['ON_HOLD', 'CONFIRMED', 'EXPIRED', 'CANCELLED']),
        tickets: z.array(ticket),
      })
      .meta({ id: 'PaymentResult' }),
  },
  errors: [
    'VALIDATION_FAILED',
    'INVALID_SIGNATURE',
    'NOT_FOUND',
    'AMOUNT_MISMATCH',
    'IDEMPOTENCY_KEY_REUSED',
    'RESERVATION_EXPIRED',
    'RESERVATION_NOT_ON_HOLD',
    'SERVICE_UNAVAILABLE',
  ],
});

export const listTicketsRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/tickets',
  operationId: 'listTickets',
  summary: "The caller's tickets, filtered, newest first",
  tags: ['Tickets'],
  auth: 'partner',
  service: 'issuance',
  querystring: ticketListQuery,
  response: { 200: ticketPage },
  errors: [...partnerErrors],
});

export const getTicketRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/tickets/:ticket_code',
  operationId: 'getTicket',
  summary: "One of the caller's tickets (another partner's → 404)",
  tags: ['Tickets'],
  auth: 'partner',
  service: 'issuance',
  params: ticketCodeParams,
  response: { 200: ticket },
  errors: [...partnerErrors, 'NOT_FOUND'],
});

export const activateTicketRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/tickets/:ticket_code/activate',
  operationId: 'activateTicket',
  summary:
    'Sell a pre-generated ticket to a customer: PRE_GENERATED → ACTIVE, priced for the customer type on ' +
    "today's venue date, unit moved from held to sold in the reseller pool",
  tags: ['Tickets'],
  auth: 'partner',
  service: 'issuance',
  params: ticketCodeParams,
  headers: idempotencyHeaders,
  body: activateTicketBody,
  response: { 200: ticket },
  errors: [
    ...partnerErrors,
    'NOT_FOUND',
    'TICKET_NOT_ACTIVE',
    'UNKNOWN_CUSTOMER_TYPE',
    'IDEMPOTENCY_KEY_REUSED',
    'SERVICE_UNAVAILABLE',
  ],
});

export const cancelTicketRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/tickets/:ticket_code/cancel',
  operationId: 'cancelTicket',
  summary:
    'Cancel a PRE_GENERATED ticket, or an ACTIVE one with nothing redeemed; its unit returns to its pool',
  tags: ['Tickets'],
  auth: 'partner',
  service: 'issuance',
  params: ticketCodeParams,
  response: { 200: ticket },
  errors: [...partnerErrors, 'NOT_FOUND', 'TICKET_NOT_CANCELLABLE'],
});

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

export const billingSummaryRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/billing/summary',
  operationId: 'getBillingSummary',
  summary:
    'Tickets issued, activated, used, cancelled and gross amount in the UTC days from..to (inclusive), ' +
    'in total, per reseller and per product (counting rules in the response description)',
  tags: ['Reports'],
  auth: 'partner',
  service: 'issuance',
  querystring: reportPeriodQuery,
  response: { 200: billingSummary },
  errors: [...partnerErrors],
});

export const reconciliationRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/reports/reconciliation',
  operationId: 'getReconciliation',
  summary:
    'Per product and channel: pool counters (allocated, held, sold) next to ticket counts (activated, ' +
    'used, expired, cancelled in the period; sold and pre-generated now)',
  tags: ['Reports'],
  auth: 'partner',
  service: 'issuance',
  querystring: reportPeriodQuery,
  response: { 200: reconciliationReport },
  errors: [...partnerErrors, 'SERVICE_UNAVAILABLE'],
});

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

export const issuanceRoutes: RouteDef[] = [
  paymentNotifyRoute,
  listTicketsRoute,
  getTicketRoute,
  activateTicketRoute,
  cancelTicketRoute,
  bulkGenerateRoute,
  listBatchesRoute,
  getBatchRoute,
  batchTicketsCsvRoute,
  createResellerRoute,
  listResellersRoute,
  getResellerRoute,
  updateResellerRoute,
  deleteResellerRoute,
  billingSummaryRoute,
  reconciliationRoute,
  createDirectOrderRoute,
  listPendingReleasesRoute,
];

// ---------------------------------------------------------------- apps (operator console)

export const adminBatch = batch.extend({ partner_id: uuid }).meta({ id: 'AdminBatch' });
export const adminBatchesQuery = paginationQuery.extend({
  status: z
    .union([batchStatus, z.literal('IN_PROGRESS')])
    .optional()
    .meta({ description: '`IN_PROGRESS` = QUEUED or RUNNING' }),
  partner_id: uuid.optional(),
});
export const adminReportParams = z.object({ partner_id: uuid });

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

export const partnerBillingSummaryRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/partners/:partner_id/billing/summary',
  operationId: 'getPartnerBillingSummary',
  summary: "A partner's billing summary, as the partner sees it at /api/ota/billing/summary",
  tags: ['Operators'],
  auth: 'admin',
  service: 'issuance',
  params: adminReportParams,
  querystring: reportPeriodQuery,
  response: { 200: billingSummary },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const partnerReconciliationRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/partners/:partner_id/reports/reconciliation',
  operationId: 'getPartnerReconciliation',
  summary: "A partner's reconciliation report, as the partner sees it at /api/ota/reports/reconciliation",
  tags: ['Operators'],
  auth: 'admin',
  service: 'issuance',
  params: adminReportParams,
  querystring: reportPeriodQuery,
  response: { 200: reconciliationReport },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE'],
});

export const appsIssuanceRoutes: RouteDef[] = [
  listAllBatchesRoute,
  partnerBillingSummaryRoute,
  partnerReconciliationRoute,
];
// Appended (not spliced into the literal above) so the partner routes stay as they were.
issuanceRoutes.push(...appsIssuanceRoutes);
