// Control runs: the unguarded payment handling that the concurrency test uses to show the race the
// payment lock and the unit keys prevent. It lives here, in test code; the domain has only the guarded
// `handlePaymentNotification`.
import {
  type CommandClient,
  newTicketCode,
  type PaymentNotification,
  type Pool,
  withTransaction,
} from '@cruise/shared';

/**
 * The naive read-then-write: no advisory lock on the payment id and tickets written without unit
 * indexes, so the unique (reservation_id, unit_index) key cannot turn a duplicate into a no-op.
 * `afterConfirm` lines the duplicates up between "no payment yet" and the writes. Returns how many
 * tickets this call wrote.
 */
export async function naivePaymentNotification(
  pool: Pool,
  inventory: CommandClient,
  n: PaymentNotification,
  afterConfirm: () => Promise<void>,
): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query('SELECT 1 FROM issuance.payments WHERE payment_id = $1', [
      n.payment_id,
    ]);
    const reply = await inventory.send('confirmHold', {
      reservation_id: n.reservation_id,
      payment_id: n.payment_id,
      amount: n.amount,
    });
    await afterConfirm();
    if (rows.length > 0 || !reply.ok) return 0;
    const { reservation } = reply;
    const units = reservation.items.flatMap((item) =>
      Array.from({ length: item.quantity }, () => ({ type: item.customer_type, price: item.unit_price })),
    );
    await client.query(
      `INSERT INTO issuance.tickets (ticket_code, partner_id, channel, product_id, status, reservation_id,
         customer_type, price_amount, price_currency, entitlements, activated_at)
       SELECT u.code, $1, 'ota', $2, 'ACTIVE', $3, u.ctype, u.amount, u.currency, '[]'::jsonb, now()
       FROM unnest($4::text[], $5::text[], $6::int[], $7::text[]) AS u(code, ctype, amount, currency)`,
      [
        reservation.partner_id,
        reservation.product_id,
        reservation.reservation_id,
        units.map(() => newTicketCode()),
        units.map((u) => u.type),
        units.map((u) => u.price.amount),
        units.map((u) => u.price.currency),
      ],
    );
    await client.query(
      `INSERT INTO issuance.payments (payment_id, reservation_id, notified_status, outcome, amount, currency)
       VALUES ($1, $2, 'SUCCEEDED', 'CONFIRMED', $3, $4) ON CONFLICT (payment_id) DO NOTHING`,
      [n.payment_id, n.reservation_id, n.amount.amount, n.amount.currency],
    );
    return units.length;
  });
}

/**
 * Inventory as issuance reaches it, except that the process "dies" right after inventory confirmed a
 * hold: the confirmation happened, the caller's transaction sees an exception before writing tickets.
 */
export function dyingAfterConfirm(inventory: CommandClient): CommandClient {
  return {
    async send(name, request) {
      const reply = await inventory.send(name, request);
      if (name === 'confirmHold') throw new Error('process died');
      return reply;
    },
  };
}
