// How a stored ticket row becomes the public Ticket object and the event/command TicketSnapshot.
import type { Pool, Ticket, TicketSnapshot } from '@cruise/shared';
import type { StoredEntitlement } from '../db/schema/tickets.ts';

export const S = '"issuance"';

/** A pool or a client inside a transaction: read functions work with either. */
export type Queryable = Pick<Pool, 'query'>;

/** The columns every ticket read selects (`t` = tickets, `r` = resellers, `p` = product_catalogue). */
export const TICKET_COLUMNS = `t.ticket_code, t.partner_id, t.channel, t.product_id, t.status, t.reservation_id,
  t.batch_id, t.order_id, t.reseller_id, r.name AS reseller_name, t.customer_type, t.price_amount,
  t.price_currency, t.customer_name, t.customer_email, t.order_reference, t.entitlements, t.revision,
  t.created_at, t.activated_at, t.used_at, t.cancelled_at, t.expired_at, p.name AS product_name`;

export const TICKET_JOINS = `LEFT JOIN ${S}.resellers r ON r.reseller_id = t.reseller_id
  LEFT JOIN ${S}.product_catalogue p ON p.product_id = t.product_id`;

export interface TicketRow {
  ticket_code: string;
  partner_id: string | null;
  channel: 'direct' | 'ota' | 'reseller';
  product_id: number;
  status: TicketSnapshot['status'];
  reservation_id: string | null;
  batch_id: string | null;
  order_id: string | null;
  reseller_id: string | null;
  reseller_name: string | null;
  customer_type: string | null;
  price_amount: number | null;
  price_currency: string | null;
  customer_name: string | null;
  customer_email: string | null;
  order_reference: string | null;
  entitlements: StoredEntitlement[];
  revision: number;
  created_at: Date;
  activated_at: Date | null;
  used_at: Date | null;
  cancelled_at: Date | null;
  expired_at: Date | null;
  product_name: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toTicket(row: TicketRow): Ticket {
  return {
    ticket_code: row.ticket_code,
    product_id: row.product_id,
    status: row.status,
    channel: row.channel,
    reservation_id: row.reservation_id,
    batch_id: row.batch_id,
    order_id: row.order_id,
    reseller: row.reseller_id ? { reseller_id: row.reseller_id, name: row.reseller_name ?? '' } : null,
    customer_type: row.customer_type,
    price:
      row.price_amount !== null && row.price_currency
        ? { amount: row.price_amount, currency: row.price_currency }
        : null,
    customer:
      row.customer_name !== null || row.customer_email !== null
        ? { name: row.customer_name, email: row.customer_email }
        : null,
    order_reference: row.order_reference,
    entitlements: row.entitlements.map((e) => ({
      function_code: e.function_code,
      redeemed_at: e.redeemed_at,
    })),
    created_at: row.created_at.toISOString(),
    activated_at: iso(row.activated_at),
    used_at: iso(row.used_at),
    cancelled_at: iso(row.cancelled_at),
    expired_at: iso(row.expired_at),
  };
}

export function toSnapshot(row: TicketRow): TicketSnapshot {
  return {
    ticket_code: row.ticket_code,
    partner_id: row.partner_id,
    channel: row.channel,
    product_id: row.product_id,
    product_name: row.product_name ?? `Product ${row.product_id}`,
    status: row.status,
    entitlements: row.entitlements.map((e) => ({
      function_code: e.function_code,
      redeemed_at: e.redeemed_at,
    })),
    revision: row.revision,
    created_at: row.created_at.toISOString(),
  };
}

export function entitlementsOf(functions: string[]): StoredEntitlement[] {
  return functions.map((function_code) => ({ function_code, redeemed_at: null }));
}
