// The payment webhook's business: a SUCCEEDED payment confirms the hold in inventory and issues one
// ACTIVE ticket per unit; FAILED is recorded and changes nothing. Idempotent by payment_id: the first
// notification's response is stored in `payments` (primary key payment_id) and every repeat gets it.
import {
  type CommandClient,
  type Outcome,
  type PaymentNotification,
  type Pool,
  type PoolClient,
  type Refusal,
  refuse,
  type Ticket,
  withTransaction,
} from '@cruise/shared';
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

/** 200 with the result, or a stored refusal (RESERVATION_EXPIRED / RESERVATION_NOT_ON_HOLD) replayed as such. */
type StoredOutcome = (
  | { status: 200; body: PaymentResult }
  | { status: 409; body: { code: 'RESERVATION_EXPIRED' | 'RESERVATION_NOT_ON_HOLD'; detail: string } }
) & { replayed?: boolean };

export async function handlePaymentNotification(
  pool: Pool,
  inventory: CommandClient,
  n: PaymentNotification,
): Promise<
  Outcome<{ result: PaymentResult /** the stored answer to an earlier notification */; replayed: boolean }>
> {
  // A refusal (NOT_FOUND, AMOUNT_MISMATCH…) comes before any write, so committing it changes nothing.
  const outcome = await withTransaction(pool, (client) => processPayment(client, inventory, n));
  if ('ok' in outcome) return outcome;
  if (outcome.status === 200) return { ok: true, result: outcome.body, replayed: outcome.replayed === true };
  return refuse(outcome.body.code, outcome.body.detail);
}

async function processPayment(
  client: PoolClient,
  inventory: CommandClient,
  n: PaymentNotification,
): Promise<StoredOutcome | Refusal> {
  // Concurrent notifications of one payment_id queue here; the later ones replay the first one's response.
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `issuance:payment:${n.payment_id}`,
  ]);
  const { rows } = await client.query<{
    outcome: string;
    reservation_id: string;
    amount: number;
    currency: string;
    response_status: 200 | 409;
    response_body: never;
  }>(
    `SELECT outcome, reservation_id, amount, currency, response_status, response_body
       FROM ${table.payments} WHERE payment_id = $1`,
    [n.payment_id],
  );
  const existing = rows[0];
  // A payment id names one payment: the same id for another reservation or amount is not a repeat
  // (answering the first reservation's body would tell the provider the second one succeeded).
  if (
    existing &&
    (existing.reservation_id !== n.reservation_id ||
      existing.amount !== n.amount.amount ||
      existing.currency !== n.amount.currency)
  ) {
    return refuse(
      'IDEMPOTENCY_KEY_REUSED',
      `payment_id ${n.payment_id} was already notified for another reservation or amount`,
    );
  }
  // A stored outcome is final, except that a FAILED attempt may later succeed under the same payment_id.
  if (existing && !(existing.outcome === 'FAILED' && n.status === 'SUCCEEDED')) {
    return { status: existing.response_status, body: existing.response_body, replayed: true };
  }

  if (n.status === 'FAILED') {
    const reply = await inventory.send('getReservation', { reservation_id: n.reservation_id });
    if (!reply.ok) return reply;
    const body: PaymentResult = {
      payment_id: n.payment_id,
      reservation_id: n.reservation_id,
      reservation_status: reply.reservation.status,
      tickets: [],
    };
    await recordPayment(client, n, 'FAILED', { status: 200, body });
    return { status: 200, body };
  }

  const reply = await inventory.send('confirmHold', {
    reservation_id: n.reservation_id,
    payment_id: n.payment_id,
    amount: n.amount,
  });
  if (!reply.ok) {
    if (reply.code === 'RESERVATION_EXPIRED' || reply.code === 'RESERVATION_NOT_ON_HOLD') {
      // The money was taken but nothing can be sold: keep the payment for a refund, answer the same way on repeats.
      const stored: StoredOutcome = { status: 409, body: { code: reply.code, detail: reply.detail } };
      await recordPayment(client, n, 'REFUND_REQUIRED', stored);
      return stored;
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
  await recordPayment(client, n, 'CONFIRMED', { status: 200, body });
  return { status: 200, body };
}

async function recordPayment(
  client: PoolClient,
  n: PaymentNotification,
  outcome: 'CONFIRMED' | 'FAILED' | 'REFUND_REQUIRED',
  stored: StoredOutcome,
): Promise<void> {
  await client.query(
    `INSERT INTO ${table.payments} (payment_id, reservation_id, notified_status, outcome, amount, currency, paid_at,
       response_status, response_body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (payment_id) DO UPDATE SET notified_status = EXCLUDED.notified_status,
       outcome = EXCLUDED.outcome, response_status = EXCLUDED.response_status,
       response_body = EXCLUDED.response_body, updated_at = now()
     WHERE payments.outcome = 'FAILED'`,
    [
      n.payment_id,
      n.reservation_id,
      n.status,
      outcome,
      n.amount.amount,
      n.amount.currency,
      n.paid_at ?? null,
      stored.status,
      JSON.stringify(stored.body),
    ],
  );
}
