// Reservations: a partner's hold on units of its `ota` pool, priced for the visit date. Holding is a
// conditional update inside the transaction that records the reservation (no oversell across any
// number of instances); the pool's expired holds are released first, so they never block a new one.
import { randomUUID } from 'node:crypto';
import {
  appendPartnerEvents,
  dayTypeOf,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  MAX_UNITS_PER_RESERVATION,
  type Outcome,
  type Pool,
  type PoolClient,
  type Queryable,
  type ReservationSnapshot,
  refuse,
  type SqlRow,
  withTransaction,
} from '@cruise/shared';
import type { reservations } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import { findProduct, type Product, productInfo } from './catalogue.ts';
import { expireLockedHolds, expireStaleHolds } from './expiry.ts';
import { available, findPool, moveUnits } from './pools.ts';
import { type PricedItem, type PricedOrder, priceItems, type RequestedItem } from './pricing.ts';

/** A reservation as `RESERVATION_COLUMNS` selects it (`visit_date` cast to text, as drizzle reads a date). */
export type ReservationRow = Omit<SqlRow<typeof reservations>, 'day_type' | 'expired_at'>;
export type ReservationStatus = ReservationRow['status'];

export const RESERVATION_COLUMNS = `id, partner_id, pool_id, product_id, visit_date::text AS visit_date, reseller_id, reseller_reference,
  status, items, quantity, total_amount, currency, expires_at, created_at, confirmed_at, payment_id, reheld,
  cancelled_at`;

/** The reservation as the public API shows it. */
export interface ReservationView {
  reservation_id: string;
  status: ReservationStatus;
  product_id: number;
  visit_date: string;
  reseller_id: string | null;
  reseller_reference: string | null;
  items: PricedItem[];
  quantity: number;
  total: { amount: number; currency: string };
  expires_at: string;
  created_at: string;
  confirmed_at: string | null;
  /** Always empty here: tickets belong to issuance (GET /api/ota/tickets?reservation_id=…). */
  tickets: never[];
}

/** A hold past its expiry is EXPIRED to every reader, whether or not it has been swept yet. */
function effectiveStatus(row: ReservationRow, now: Date): ReservationStatus {
  return row.status === 'ON_HOLD' && row.expires_at <= now ? 'EXPIRED' : row.status;
}

function pricedItems(row: ReservationRow): PricedItem[] {
  return row.items.map((i) => ({
    customer_type: i.customer_type,
    quantity: i.quantity,
    unit_price: { amount: i.unit_amount, currency: row.currency },
  }));
}

export function toReservationView(row: ReservationRow, now: Date): ReservationView {
  return {
    reservation_id: row.id,
    status: effectiveStatus(row, now),
    product_id: row.product_id,
    visit_date: row.visit_date,
    reseller_id: row.reseller_id,
    reseller_reference: row.reseller_reference,
    items: pricedItems(row),
    quantity: row.quantity,
    total: { amount: row.total_amount, currency: row.currency },
    expires_at: row.expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
    confirmed_at: row.confirmed_at?.toISOString() ?? null,
    tickets: [],
  };
}

/** The partner event of a reservation's change, carrying the reservation as GET shows it. */
export function reservationEvent(
  type: 'reservation.confirmed' | 'reservation.expired' | 'reservation.cancelled',
  row: ReservationRow,
  now: Date,
) {
  return { type, partnerId: row.partner_id, data: { reservation: toReservationView(row, now) } };
}

export function toReservationSnapshot(row: ReservationRow, now: Date): ReservationSnapshot {
  return {
    reservation_id: row.id,
    partner_id: row.partner_id,
    product_id: row.product_id,
    visit_date: row.visit_date,
    reseller_id: row.reseller_id,
    reseller_reference: row.reseller_reference,
    status: effectiveStatus(row, now),
    items: pricedItems(row),
    quantity: row.quantity,
    total: { amount: row.total_amount, currency: row.currency },
    expires_at: row.expires_at.toISOString(),
    confirmed_at: row.confirmed_at?.toISOString() ?? null,
    payment_id: row.payment_id,
    created_at: row.created_at.toISOString(),
    cancelled_at: row.cancelled_at?.toISOString() ?? null,
  };
}

export interface ReserveInput {
  partnerId: string;
  productId: number;
  visitDate: string;
  resellerId: string | null;
  resellerReference: string | null;
  items: RequestedItem[];
  holdSeconds: number;
  now?: Date;
}

/** The reservation's items priced for its visit date, within the units one reservation may hold. */
export function priceReservation(
  product: Product,
  input: Pick<ReserveInput, 'items' | 'visitDate'>,
): Outcome<PricedOrder, 'UNKNOWN_CUSTOMER_TYPE' | 'VALIDATION_FAILED'> {
  const priced = priceItems(product, input.items, dayTypeOf(input.visitDate));
  if (!priced.ok) return priced;
  if (priced.quantity < 1 || priced.quantity > MAX_UNITS_PER_RESERVATION) {
    return refuse('VALIDATION_FAILED', `A reservation holds 1 to ${MAX_UNITS_PER_RESERVATION} units`);
  }
  return priced;
}

export function insufficientInventory(productId: number, left: number) {
  return refuse(
    'INSUFFICIENT_INVENTORY',
    `Only ${left} units of product ${productId} are available in channel ota`,
    { available: left },
  );
}

/** A held reservation about to be written: its id is the one its ledger row already names. */
export interface NewReservation {
  id: string;
  poolId: string;
  input: ReserveInput;
  priced: PricedOrder;
  now: Date;
}

/** Writes ON_HOLD reservations (one statement however many); returns their rows in the given order. */
export async function insertReservations(
  client: PoolClient,
  reservations: NewReservation[],
): Promise<ReservationRow[]> {
  if (reservations.length === 0) return [];
  const column = <T>(f: (r: NewReservation) => T) => reservations.map(f);
  const { rows } = await client.query<ReservationRow>(
    `INSERT INTO ${table.reservations} (id, partner_id, pool_id, product_id, visit_date, day_type, reseller_id,
       reseller_reference, status, items, quantity, total_amount, currency, expires_at, created_at)
     SELECT id, partner_id, pool_id, product_id, visit_date, day_type, reseller_id, reseller_reference,
            'ON_HOLD', items, quantity, total_amount, currency, expires_at, created_at
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::date[], $6::text[], $7::uuid[], $8::text[],
                 $9::jsonb[], $10::int[], $11::int[], $12::text[], $13::timestamptz[], $14::timestamptz[])
       AS r(id, partner_id, pool_id, product_id, visit_date, day_type, reseller_id, reseller_reference,
            items, quantity, total_amount, currency, expires_at, created_at)
     RETURNING ${RESERVATION_COLUMNS}`,
    [
      column((r) => r.id),
      column((r) => r.input.partnerId),
      column((r) => r.poolId),
      column((r) => r.input.productId),
      column((r) => r.input.visitDate),
      column((r) => dayTypeOf(r.input.visitDate)),
      column((r) => r.input.resellerId),
      column((r) => r.input.resellerReference),
      column((r) =>
        JSON.stringify(
          r.priced.items.map((i) => ({
            customer_type: i.customer_type,
            quantity: i.quantity,
            unit_amount: i.unit_price.amount,
          })),
        ),
      ),
      column((r) => r.priced.quantity),
      column((r) => r.priced.total.amount),
      column((r) => r.priced.total.currency),
      column((r) => new Date(r.now.getTime() + r.input.holdSeconds * 1000)),
      column((r) => r.now),
    ],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return reservations.map((r) => byId.get(r.id)!);
}

/** Holds units in the partner's ota pool, inside the caller's transaction. */
export async function reserve(
  client: PoolClient,
  input: ReserveInput,
): Promise<
  Outcome<
    { reservation: ReservationView },
    'UNKNOWN_PRODUCT' | 'UNKNOWN_CUSTOMER_TYPE' | 'INSUFFICIENT_INVENTORY' | 'VALIDATION_FAILED'
  >
> {
  const now = input.now ?? new Date();
  const product = await findProduct(client, input.productId);
  if (!product) return refuse('UNKNOWN_PRODUCT', `Product ${input.productId} does not exist`);
  const priced = priceReservation(product, input);
  if (!priced.ok) return priced;
  const pool = await findPool(client, input.productId, 'ota', input.partnerId);
  if (!pool) return insufficientInventory(input.productId, 0);

  await expireStaleHolds(client, pool.id, now);
  const id = randomUUID();
  const moved = await moveUnits(client, {
    poolId: pool.id,
    kind: 'hold',
    heldDelta: priced.quantity,
    soldDelta: 0,
    reference: `reservation:${id}`,
  });
  if (!moved.moved) {
    return insufficientInventory(input.productId, moved.pool ? Math.max(0, available(moved.pool)) : 0);
  }
  const [row] = await insertReservations(client, [{ id, poolId: pool.id, input, priced, now }]);
  return { ok: true, reservation: toReservationView(row!, now) };
}

/** One of the partner's reservations; another partner's is as unknown as a missing one. */
export async function getReservation(
  db: Queryable,
  input: { partnerId: string; reservationId: string; now?: Date },
): Promise<ReservationView | undefined> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM ${table.reservations} WHERE id = $1 AND partner_id = $2`,
    [input.reservationId, input.partnerId],
  );
  return rows[0] && toReservationView(rows[0], input.now ?? new Date());
}

/** Any reservation, for the payment flow (not partner-scoped: the webhook names only the reservation). */
export async function getReservationSnapshot(
  db: Queryable,
  reservationId: string,
  now: Date = new Date(),
): Promise<ReservationSnapshot | undefined> {
  const { rows } = await db.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM ${table.reservations} WHERE id = $1`,
    [reservationId],
  );
  return rows[0] && toReservationSnapshot(rows[0], now);
}

export interface ListReservationsInput extends ListQuery {
  partnerId: string;
  status?: ReservationStatus | undefined;
  productId?: number | undefined;
  resellerReference?: string | undefined;
  /** Inclusive. */
  createdFrom?: Date | undefined;
  /** Exclusive. */
  createdTo?: Date | undefined;
  now?: Date;
}

/** A partner's reservations, newest first. */
export const RESERVATIONS_NEWEST_FIRST = new Keyset('reservations', [
  { sql: 'rv.created_at', type: 'timestamptz' },
  { sql: 'rv.id', type: 'uuid' },
]);

/** The partner's reservations, newest first, filtered; the page and its total in one statement. */
export async function listReservations(
  db: Queryable,
  input: ListReservationsInput,
): Promise<Outcome<{ page: ListPage<ReservationView> }, 'VALIDATION_FAILED'>> {
  const now = input.now ?? new Date();
  const where = ['rv.partner_id = $1'];
  const params: unknown[] = [input.partnerId];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (input.status === 'ON_HOLD') where.push(`rv.status = 'ON_HOLD' AND rv.expires_at > ${param(now)}`);
  else if (input.status === 'EXPIRED')
    where.push(`(rv.status = 'EXPIRED' OR (rv.status = 'ON_HOLD' AND rv.expires_at <= ${param(now)}))`);
  else if (input.status) where.push(`rv.status = ${param(input.status)}`);
  if (input.productId !== undefined) where.push(`rv.product_id = ${param(input.productId)}`);
  if (input.resellerReference !== undefined)
    where.push(`rv.reseller_reference = ${param(input.resellerReference)}`);
  if (input.createdFrom) where.push(`rv.created_at >= ${param(input.createdFrom)}`);
  if (input.createdTo) where.push(`rv.created_at < ${param(input.createdTo)}`);
  return RESERVATIONS_NEWEST_FIRST.list(
    db,
    input,
    { from: table.reservations, alias: 'rv', where: where.join(' AND '), select: RESERVATION_COLUMNS },
    params,
    (r: ReservationRow & KeyedRow) => toReservationView(r, now),
  );
}

export async function lockReservation(client: PoolClient, reservationId: string, partnerId?: string) {
  const { rows } = await client.query<ReservationRow>(
    `SELECT ${RESERVATION_COLUMNS} FROM ${table.reservations}
     WHERE id = $1 AND ($2::uuid IS NULL OR partner_id = $2) FOR UPDATE`,
    [reservationId, partnerId ?? null],
  );
  return rows[0];
}

/** Expires a locked reservation that is ON_HOLD but past its expiry; returns the row as it now is. */
export async function settleExpiry(
  client: PoolClient,
  row: ReservationRow,
  now: Date,
): Promise<ReservationRow> {
  if (row.status !== 'ON_HOLD' || row.expires_at > now) return row;
  await expireLockedHolds(client, [row], now);
  return { ...row, status: 'EXPIRED' };
}

/** ON_HOLD → CANCELLED, releasing exactly the units the reservation held. */
export async function cancelReservation(
  pool: Pool,
  input: { partnerId: string; reservationId: string; now?: Date },
): Promise<Outcome<{ reservation: ReservationView }, 'NOT_FOUND' | 'RESERVATION_NOT_ON_HOLD'>> {
  const now = input.now ?? new Date();
  return withTransaction(pool, async (client) => {
    const locked = await lockReservation(client, input.reservationId, input.partnerId);
    if (!locked) return refuse('NOT_FOUND', 'No such reservation');
    const row = await settleExpiry(client, locked, now);
    if (row.status !== 'ON_HOLD') {
      return refuse(
        'RESERVATION_NOT_ON_HOLD',
        `The reservation is ${row.status}; only ON_HOLD can be cancelled`,
        {
          reservation_status: row.status,
        },
      );
    }
    const moved = await moveUnits(client, {
      poolId: row.pool_id,
      kind: 'release',
      heldDelta: -row.quantity,
      soldDelta: 0,
      reference: `reservation:${row.id}`,
    });
    if (!moved.moved) throw new Error(`pool ${row.pool_id} holds fewer units than reservation ${row.id}`);
    const { rows } = await client.query<ReservationRow>(
      `UPDATE ${table.reservations} SET status = 'CANCELLED', cancelled_at = $2 WHERE id = $1 RETURNING ${RESERVATION_COLUMNS}`,
      [row.id, now],
    );
    await appendPartnerEvents(client, 'inventory', [
      reservationEvent('reservation.cancelled', rows[0]!, now),
    ]);
    return { ok: true, reservation: toReservationView(rows[0]!, now) };
  });
}

export interface ConfirmInput {
  reservationId: string;
  paymentId: string;
  amount: { amount: number; currency: string };
  now?: Date;
}

/**
 * A payment for a reservation: held → sold. Idempotent by payment id (stored on the reservation, unique):
 * the same payment again gets the same answer. An expired hold is re-held and sold when its pool still
 * has room, else RESERVATION_EXPIRED (the expiry itself is kept).
 */
export async function confirmHold(
  pool: Pool,
  input: ConfirmInput,
): Promise<
  Outcome<
    {
      reservation: ReservationSnapshot;
      product: { product_id: number; name: string; functions: string[] };
      reheld: boolean;
    },
    'NOT_FOUND' | 'RESERVATION_NOT_ON_HOLD' | 'RESERVATION_EXPIRED' | 'AMOUNT_MISMATCH' | 'VALIDATION_FAILED'
  >
> {
  const now = input.now ?? new Date();
  return withTransaction(pool, async (client) => {
    const locked = await lockReservation(client, input.reservationId);
    if (!locked) return refuse('NOT_FOUND', 'No such reservation');
    const product = (await findProduct(client, locked.product_id))!;
    const answer = (row: ReservationRow) => ({
      ok: true as const,
      reservation: toReservationSnapshot(row, now),
      product: productInfo(product),
      reheld: row.reheld,
    });

    if (locked.status === 'CONFIRMED') {
      if (locked.payment_id === input.paymentId) return answer(locked);
      return refuse('RESERVATION_NOT_ON_HOLD', 'The reservation was already confirmed by another payment', {
        reservation_status: 'CONFIRMED',
      });
    }
    if (locked.status === 'CANCELLED') {
      return refuse('RESERVATION_NOT_ON_HOLD', 'The reservation was cancelled', {
        reservation_status: 'CANCELLED',
      });
    }
    if (input.amount.amount !== locked.total_amount || input.amount.currency !== locked.currency) {
      return refuse(
        'AMOUNT_MISMATCH',
        `The reservation's total is ${locked.total_amount} ${locked.currency}; the payment was ${input.amount.amount} ${input.amount.currency}`,
        { expected: { amount: locked.total_amount, currency: locked.currency } },
      );
    }
    const used = await client.query(`SELECT 1 FROM ${table.reservations} WHERE payment_id = $1`, [
      input.paymentId,
    ]);
    if (used.rowCount) {
      return refuse('VALIDATION_FAILED', `Payment ${input.paymentId} already confirmed another reservation`);
    }

    const row = await settleExpiry(client, locked, now);
    let reheld = false;
    if (row.status === 'ON_HOLD') {
      const moved = await moveUnits(client, {
        poolId: row.pool_id,
        kind: 'sell',
        heldDelta: -row.quantity,
        soldDelta: row.quantity,
        reference: `reservation:${row.id}`,
      });
      if (!moved.moved) throw new Error(`pool ${row.pool_id} holds fewer units than reservation ${row.id}`);
    } else {
      // EXPIRED: its units went back to the pool; take them (or any others) straight to sold if still free.
      const moved = await moveUnits(client, {
        poolId: row.pool_id,
        kind: 'sell',
        heldDelta: 0,
        soldDelta: row.quantity,
        reference: `reservation:${row.id}`,
      });
      if (!moved.moved) {
        return refuse(
          'RESERVATION_EXPIRED',
          'The hold expired and its units are no longer available; the payment should be refunded',
          { reservation_status: 'EXPIRED' },
        );
      }
      reheld = true;
    }
    const { rows } = await client.query<ReservationRow>(
      `UPDATE ${table.reservations} SET status = 'CONFIRMED', confirmed_at = $2, payment_id = $3, reheld = $4
       WHERE id = $1 RETURNING ${RESERVATION_COLUMNS}`,
      [row.id, now, input.paymentId, reheld],
    );
    await appendPartnerEvents(client, 'inventory', [
      reservationEvent('reservation.confirmed', rows[0]!, now),
    ]);
    return answer(rows[0]!);
  }).catch((err: { code?: string; constraint?: string }) => {
    // Two reservations confirmed by one payment at the same moment: the unique constraint decides.
    if (err.code === '23505' && err.constraint === 'reservations_payment_id_key') {
      return refuse('VALIDATION_FAILED', `Payment ${input.paymentId} already confirmed another reservation`);
    }
    throw err;
  });
}
