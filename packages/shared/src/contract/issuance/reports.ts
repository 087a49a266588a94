// Issuance's public contract, reports: billing summary and reconciliation, and the console's view of
// one partner's (see ../shared/api.md).
import { z } from 'zod';
import { defineRoute, isoDate, money, partnerChannel, uuid } from '../common.ts';
import { partnerErrors } from './common.ts';

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
  channel: partnerChannel,
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

// The operator console's view of one partner's reports.
export const adminReportParams = z.object({ partner_id: uuid });

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
