// Public routes owned by the issuance service (see ../shared/api.md), one file per subdomain: the
// payment webhook, tickets, bulk generation (batches), resellers, reports, the operator's direct orders
// and pending pool releases.
import type { RouteDef } from '../common.ts';
import {
  batchTicketsCsvRoute,
  bulkGenerateRoute,
  getBatchRoute,
  listAllBatchesRoute,
  listBatchesRoute,
} from './batches.ts';
import { createDirectOrderRoute } from './direct-orders.ts';
import { paymentNotifyRoute } from './payments.ts';
import { listPendingReleasesRoute } from './pending-releases.ts';
import {
  billingSummaryRoute,
  partnerBillingSummaryRoute,
  partnerReconciliationRoute,
  reconciliationRoute,
} from './reports.ts';
import {
  createResellerRoute,
  deleteResellerRoute,
  getResellerRoute,
  listResellersRoute,
  updateResellerRoute,
} from './resellers.ts';
import { activateTicketRoute, cancelTicketRoute, getTicketRoute, listTicketsRoute } from './tickets.ts';

export * from './batches.ts';
export { batchStatus, resellerStatus } from './common.ts';
export * from './direct-orders.ts';
export * from './payments.ts';
export * from './pending-releases.ts';
export * from './reports.ts';
export * from './resellers.ts';
export * from './tickets.ts';

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

export const appsIssuanceRoutes: RouteDef[] = [
  listAllBatchesRoute,
  partnerBillingSummaryRoute,
  partnerReconciliationRoute,
];
// Appended (not spliced into the literal above) so the partner routes stay as they were.
issuanceRoutes.push(...appsIssuanceRoutes);
