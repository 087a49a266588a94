// Issuance's public contract, tickets: the list, one ticket, activation and cancel (see ../shared/api.md).
import { z } from 'zod';
import {
  channel,
  customerType,
  dateOrDateTime,
  defineRoute,
  idempotencyHeaders,
  money,
  pageOf,
  paginationQuery,
  productId,
  ticketStatus,
  uuid,
} from '../common.ts';
import { email, partnerErrors, shortText } from './common.ts';

export const ticket = z
  .object({
    ticket_code: z.string(),
    product_id: z.number().int(),
    status: ticketStatus,
    channel,
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
