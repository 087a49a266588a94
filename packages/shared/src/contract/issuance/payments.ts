// Issuance's public contract, the payment provider's webhook (see ../shared/api.md).
import { z } from 'zod';
import { defineRoute, isoDateTime, money, reservationStatus, uuid } from '../common.ts';
import { shortText } from './common.ts';
import { ticket } from './tickets.ts';

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
        reservation_status: reservationStatus,
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
