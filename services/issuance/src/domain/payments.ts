// The payment webhook's business: a SUCCEEDED payment confirms the hold in inventory and issues one
// ACTIVE ticket per unit; FAILED is recorded and changes nothing. Idempotent by payment_id: the payment
// is kept in `payments`, and the first notification's answer is recorded under its id (the shared
// recorded replies, scope `payment`, kept for good) and replayed to every repeat.
import {
  type CommandClient,
  type Outcome,
  type PaymentNotification,
  type Pool,
  type PoolClient,
  type Refusal,
  type Reply,
  recordedReply,
  refuse,
  replayStore,
  type Ticket,
  withTransaction,
} from '@cruise/shared';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';
import { table } from '../db/tables.ts';
import { issueUnits } from './issue-tickets.ts';
import { rememberProduct } from './product-catalogue.ts';
import { toTicket } from './ticket-records.ts';
import { ownReseller } from './tickets.ts';

export interface PaymentResult {
  payment_id: string;
  reservation_id: string;
  reservation_status: 'ON_HOLD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';
  tickets: Ticket[];
}

type PaymentOutcome = 'CONFIRMED' | 'FAILED' | 'REFUND_REQUIRED';

/**
 * The answer recorded under a payment id: 200 with the result, or 409 (RESERVATION_EXPIRED /
 * RESERVATION_NOT_ON_HOLD) replayed as such; with the outcome, which decides whether it is final.
 */
type PaymentReply = Reply<
  | { outcome: 'CONFIRMED' | 'FAILED'; answer: PaymentResult }
  | {
      outcome: 'REFUND_REQUIRED';
      answer: { code: 'RESERVATION_EXPIRED' | 'RESERVATION_NOT_ON_HOLD'; detail: string };
    }
>;

const paymentReplies = replayStore(idempotencyKeys, { keepHours: null });

export async function handlePaymentNotification(
  pool: Pool,
  inventory: CommandClient,
  n: PaymentNotification,
): Promise<
  Outcome<{ result: PaymentResult /** the stored answer to an earlier notification */; replayed: boolean }>
> {
  // Concurrent notifications of one payment_id queue on its claim; the later ones replay the first's answer.
  // A refusal (NOT_FOUND, AMOUNT_MISMATCH…) comes before any write and is not recorded.
  const reply = await withTransaction(pool, (client) =>
    recordedReply(
      client,
      paymentReplies,
      {
        scope: 'payment',
        key: n.payment_id,
        // A payment id names one payment: the same id for another reservation or amount is not a repeat
        // (answering the first reservation's body would tell the provider the second one succeeded).
        request: { reservation_id: n.reservation_id, amount: n.amount.amount, currency: n.amount.currency },
        reusedDetail: `payment_id ${n.payment_id} was already notified for another reservation or amount`,
      },
      () => processPayment(client, inventory, n),
      // A recorded answer is final, except that a FAILED attempt may later succeed under the same payment_id.
      { replay: (recorded) => !(recorded.body.outcome === 'FAILED' && n.status === 'SUCCEEDED') },
    ),
  );
  if (!reply.ok) return reply;
  const { body } = reply;
  if (body.outcome === 'REFUND_REQUIRED') return refuse(body.answer.code, body.answer.detail);
  return { ok: true, result: body.answer, replayed: reply.replayed };
}

async function processPayment(
  client: PoolClient,
  inventory: CommandClient,
  n: PaymentNotification,
): Promise<PaymentReply | Refusal> {
  if (n.status === 'FAILED') {
    const reply = await inventory.send('getReservation', { reservation_id: n.reservation_id });
    if (!reply.ok) return reply;
    const body: PaymentResult = {
      payment_id: n.payment_id,
      reservation_id: n.reservation_id,
      reservation_status: reply.reservation.status,
      tickets: [],
    };
    await recordPayment(client, n, 'FAILED');
    return { status: 200, body: { outcome: 'FAILED', answer: body } };
  }

  const reply = await inventory.send('confirmHold', {
    reservation_id: n.reservation_id,
    payment_id: n.payment_id,
    amount: n.amount,
  });
  if (!reply.ok) {
    if (reply.code === 'RESERVATION_EXPIRED' || reply.code === 'RESERVATION_NOT_ON_HOLD') {
      // The money was taken but nothing can be sold: keep the payment for a refund, answer the same way on repeats.
      await recordPayment(client, n, 'REFUND_REQUIRED');
      return {
        status: 409,
        body: { outcome: 'REFUND_REQUIRED', answer: { code: reply.code, detail: reply.detail } },
      };
    }
    return reply; // NOT_FOUND, AMOUNT_MISMATCH, …: nothing changed, nothing to remember
  }
  const { reservation, product } = reply;
  await rememberProduct(client, product);
  const tickets = await issueUnits(client, {
    source: { kind: 'reservation', reservationId: reservation.reservation_id },
    partnerId: reservation.partner_id,
    channel: 'ota',
    productId: reservation.product_id,
    // Inventory checked the reseller when the hold was made; a reseller of another partner must still
    // never reach this partner's tickets, whatever the reservation says.
    resellerId:
      reservation.reseller_id && (await ownReseller(client, reservation.partner_id, reservation.reseller_id))
        ? reservation.reseller_id
        : null,
    functions: product.functions,
    items: reservation.items,
  });
  const body: PaymentResult = {
    payment_id: n.payment_id,
    reservation_id: reservation.reservation_id,
    reservation_status: 'CONFIRMED',
    tickets: tickets.map(toTicket),
  };
  await recordPayment(client, n, 'CONFIRMED');
  return { status: 200, body: { outcome: 'CONFIRMED', answer: body } };
}

async function recordPayment(
  client: PoolClient,
  n: PaymentNotification,
  outcome: PaymentOutcome,
): Promise<void> {
  await client.query(
    `INSERT INTO ${table.payments} (payment_id, reservation_id, notified_status, outcome, amount, currency, paid_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (payment_id) DO UPDATE SET notified_status = EXCLUDED.notified_status,
       outcome = EXCLUDED.outcome, updated_at = now()
     WHERE payments.outcome = 'FAILED'`,
    [
      n.payment_id,
      n.reservation_id,
      n.status,
      outcome,
      n.amount.amount,
      n.amount.currency,
      n.paid_at ?? null,
    ],
  );
}
