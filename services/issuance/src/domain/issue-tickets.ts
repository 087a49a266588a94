// Issues the ACTIVE tickets of a paid reservation or a direct order: one per unit, keyed by
// (reservation_id | order_id, unit index) so a retried issuance finds the tickets instead of doubling them.
import { type Money, newTicketCode, type PoolClient } from '@cruise/shared';
import { table } from '../db/tables.ts';
import { appendTicketEvents } from './ticket-events.ts';
import {
  entitlementsOf,
  TICKET_COLUMNS,
  TICKET_JOINS,
  type TicketRow,
  toSnapshot,
} from './ticket-records.ts';

export interface PricedItem {
  customer_type: string;
  quantity: number;
  unit_price: Money;
}

export interface IssueUnitsInput {
  source: { kind: 'reservation'; reservationId: string } | { kind: 'order'; orderId: string };
  partnerId: string | null;
  channel: 'direct' | 'ota';
  productId: number;
  resellerId: string | null;
  functions: string[];
  items: PricedItem[];
}

/** Inserts the missing units' tickets; returns every ticket of the source in unit order. */
export async function issueUnits(client: PoolClient, input: IssueUnitsInput): Promise<TicketRow[]> {
  const units = input.items.flatMap((item) =>
    Array.from({ length: item.quantity }, () => ({
      customerType: item.customer_type,
      price: item.unit_price,
    })),
  );
  const reservationId = input.source.kind === 'reservation' ? input.source.reservationId : null;
  const orderId = input.source.kind === 'order' ? input.source.orderId : null;
  const conflictTarget =
    input.source.kind === 'reservation'
      ? '(reservation_id, unit_index) WHERE reservation_id IS NOT NULL'
      : '(order_id, unit_index) WHERE order_id IS NOT NULL';
  const inserted = await client.query<{ ticket_code: string }>(
    `INSERT INTO ${table.tickets} (ticket_code, partner_id, channel, product_id, status, reservation_id, order_id,
       unit_index, reseller_id, customer_type, price_amount, price_currency, entitlements, activated_at)
     SELECT u.code, $1, $2, $3, 'ACTIVE', $4, $5, u.idx - 1, $6, u.ctype, u.amount,
       u.currency, $7::jsonb, now()
     FROM unnest($8::text[], $9::text[], $10::int[], $11::text[]) WITH ORDINALITY
       AS u(code, ctype, amount, currency, idx)
     ON CONFLICT ${conflictTarget} DO NOTHING
     RETURNING ticket_code`,
    [
      input.partnerId,
      input.channel,
      input.productId,
      reservationId,
      orderId,
      input.resellerId,
      JSON.stringify(entitlementsOf(input.functions)),
      units.map(() => newTicketCode()),
      units.map((u) => u.customerType),
      units.map((u) => u.price.amount),
      units.map((u) => u.price.currency),
    ],
  );
  const where = reservationId ? 't.reservation_id = $1' : 't.order_id = $1';
  const { rows } = await client.query<TicketRow>(
    `SELECT ${TICKET_COLUMNS} FROM ${table.tickets} t ${TICKET_JOINS} WHERE ${where} ORDER BY t.unit_index, t.id`,
    [reservationId ?? orderId],
  );
  const fresh = new Set(inserted.rows.map((r) => r.ticket_code));
  if (fresh.size > 0) {
    await appendTicketEvents(
      client,
      'ticketsIssued',
      rows.filter((r) => fresh.has(r.ticketCode)).map(toSnapshot),
    );
  }
  return rows;
}
