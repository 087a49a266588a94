// How a stored ticket row becomes the public Ticket object and the event/command TicketSnapshot.
import type { Pool, PoolClient, Ticket, TicketSnapshot } from '@cruise/shared';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { productCatalogue, resellers, type StoredEntitlement, tickets } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';

/** A pool or a client inside a transaction: read functions work with either. */
export type Queryable = Pool | PoolClient;

/** What every ticket read returns: the ticket with its reseller's and product's names. */
const ticketFields = {
  ticketCode: tickets.ticketCode,
  partnerId: tickets.partnerId,
  channel: tickets.channel,
  productId: tickets.productId,
  status: tickets.status,
  reservationId: tickets.reservationId,
  batchId: tickets.batchId,
  orderId: tickets.orderId,
  resellerId: tickets.resellerId,
  resellerName: resellers.name,
  customerType: tickets.customerType,
  priceAmount: tickets.priceAmount,
  priceCurrency: tickets.priceCurrency,
  customerName: tickets.customerName,
  customerEmail: tickets.customerEmail,
  orderReference: tickets.orderReference,
  entitlements: tickets.entitlements,
  revision: tickets.revision,
  createdAt: tickets.createdAt,
  activatedAt: tickets.activatedAt,
  usedAt: tickets.usedAt,
  cancelledAt: tickets.cancelledAt,
  expiredAt: tickets.expiredAt,
  productName: productCatalogue.name,
};

/** Tickets with their reseller and product (filter, order and lock it further). */
export function selectTickets(db: Queryable) {
  return drizzle(db)
    .select(ticketFields)
    .from(tickets)
    .leftJoin(resellers, eq(resellers.resellerId, tickets.resellerId))
    .leftJoin(productCatalogue, eq(productCatalogue.productId, tickets.productId))
    .$dynamic();
}

/** A ticket as read by `selectTickets` (and by the SQL statements that select `TICKET_COLUMNS`). */
export type TicketRow = Awaited<ReturnType<typeof selectTickets>>[number];

/**
 * The same fields for the statements written as SQL (`t` = tickets, `r` = resellers, `p` =
 * product_catalogue), aliased to `TicketRow`'s keys: generated from the drizzle columns above.
 */
export const TICKET_COLUMNS = Object.entries(ticketFields)
  .map(([key, column]) => {
    const alias = column.table === resellers ? 'r' : column.table === productCatalogue ? 'p' : 't';
    return `${alias}.${column.name} AS "${key}"`;
  })
  .join(', ');

export const TICKET_JOINS = `LEFT JOIN ${table.resellers} r ON r.reseller_id = t.reseller_id
  LEFT JOIN ${table.product_catalogue} p ON p.product_id = t.product_id`;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toTicket(row: TicketRow): Ticket {
  return {
    ticket_code: row.ticketCode,
    product_id: row.productId,
    status: row.status,
    channel: row.channel,
    reservation_id: row.reservationId,
    batch_id: row.batchId,
    order_id: row.orderId,
    reseller: row.resellerId ? { reseller_id: row.resellerId, name: row.resellerName ?? '' } : null,
    customer_type: row.customerType,
    price:
      row.priceAmount !== null && row.priceCurrency
        ? { amount: row.priceAmount, currency: row.priceCurrency }
        : null,
    customer:
      row.customerName !== null || row.customerEmail !== null
        ? { name: row.customerName, email: row.customerEmail }
        : null,
    order_reference: row.orderReference,
    entitlements: row.entitlements.map((e) => ({
      function_code: e.function_code,
      redeemed_at: e.redeemed_at,
    })),
    created_at: row.createdAt.toISOString(),
    activated_at: iso(row.activatedAt),
    used_at: iso(row.usedAt),
    cancelled_at: iso(row.cancelledAt),
    expired_at: iso(row.expiredAt),
  };
}

export function toSnapshot(row: TicketRow): TicketSnapshot {
  return {
    ticket_code: row.ticketCode,
    partner_id: row.partnerId,
    channel: row.channel,
    product_id: row.productId,
    product_name: row.productName ?? `Product ${row.productId}`,
    status: row.status,
    entitlements: row.entitlements.map((e) => ({
      function_code: e.function_code,
      redeemed_at: e.redeemed_at,
    })),
    revision: row.revision,
    created_at: row.createdAt.toISOString(),
  };
}

export function entitlementsOf(functions: string[]): StoredEntitlement[] {
  return functions.map((function_code) => ({ function_code, redeemed_at: null }));
}
