// OCTO bookings as a translation of reservations: every state change is a command to the service that
// owns it (inventory holds, extends, cancels holds; issuance confirms as an on-account sale and cancels
// tickets), and every answer is composed from their current state. This file keeps only what OCTO has
// and a reservation does not: the reseller's uuid, contact, notes and unit item uuids.
import { randomUUID } from 'node:crypto';
import {
  type CommandClient,
  type Db,
  isUuid,
  isValidDate,
  type ReservationSnapshot,
  type Ticket,
  venueDate,
} from '@cruise/shared';
import {
  type zBooking,
  zBookingCancellationBody,
  zBookingConfirmationBody,
  type zBookingContact,
  zBookingReservationBody,
  type zContact,
  zExtendReservationBody,
} from '@octocloud/types';
import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import { bookings } from '../db/schema/bookings.ts';
import {
  type AvailabilityContext,
  availabilityOf,
  dateOfAvailabilityId,
  type PoolState,
} from './availability.ts';
import { badRequest, fromRefusal, OctoError } from './octo-errors.ts';
import {
  type CatalogueProduct,
  checkOption,
  findProduct,
  MAX_UNITS,
  type OctoPricing,
  OPTION_ID,
  pricingOf,
} from './products.ts';

export type OctoBooking = ReturnType<typeof zBooking.parse>;
type Contact = ReturnType<typeof zContact.parse>;
type GivenContact = ReturnType<typeof zBookingContact.parse>;
type BookingRow = typeof bookings.$inferSelect;
interface StoredUnitItem {
  uuid: string;
  unitId: string;
  resellerReference: string | null;
  contact: Contact | null;
}

/** api.md: `expirationMinutes` 1..1440; extend adds the same range. */
const MAX_EXPIRATION_MINUTES = 1440;
/** Extend without `expirationMinutes` adds this much. */
const DEFAULT_EXTEND_MINUTES = 30;
/** One list answer at most (a filter is required, so a partner narrows it). */
const LIST_LIMIT = 500;

export interface BookingDeps {
  db: Db;
  commands: CommandClient;
  timeZone: string;
  /** The hold's length when the reseller gives no `expirationMinutes` (RESERVATION_HOLD_SECONDS). */
  defaultHoldSeconds: number;
}

/**
 * What one request reads from other services, once: the catalogue and the caller's ota pools (for the
 * availability a booking shows) are fetched on first use and shared by every booking of the answer.
 */
export class RequestScope {
  private catalogueP?: Promise<CatalogueProduct[]>;
  private poolsP?: Promise<Map<number, PoolState>>;
  readonly deps: BookingDeps;
  readonly partnerId: string;
  readonly pricing: boolean;
  constructor(deps: BookingDeps, partnerId: string, pricing: boolean) {
    this.deps = deps;
    this.partnerId = partnerId;
    this.pricing = pricing;
  }

  catalogue(): Promise<CatalogueProduct[]> {
    this.catalogueP ??= this.deps.commands.send('catalogue', {}).then((r) => {
      if (!r.ok) throw fromRefusal(r);
      return r.products;
    });
    return this.catalogueP;
  }

  pools(): Promise<Map<number, PoolState>> {
    this.poolsP ??= this.deps.commands.send('listPools', { partner_id: this.partnerId }).then((r) => {
      if (!r.ok) throw fromRefusal(r);
      return new Map(r.pools.filter((p) => p.channel === 'ota').map((p) => [p.product_id, p]));
    });
    return this.poolsP;
  }

  async availabilityContext(product: CatalogueProduct, wanted = 0): Promise<AvailabilityContext> {
    const pool = (await this.pools()).get(product.product_id) ?? { allocated: 0, available: 0 };
    return { product, pool, timeZone: this.deps.timeZone, pricing: this.pricing, wanted };
  }
}

function parsed<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } };
  },
  body: unknown,
): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw badRequest(
    issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'The request body is invalid',
  );
}

function fullContact(given: GivenContact | undefined | null, base?: Contact): Contact {
  const c = given ?? {};
  const pick = <K extends keyof Contact>(k: K): Contact[K] =>
    (c[k as keyof GivenContact] as Contact[K] | undefined) ?? base?.[k] ?? (null as Contact[K]);
  return {
    fullName: pick('fullName'),
    firstName: pick('firstName'),
    lastName: pick('lastName'),
    emailAddress: pick('emailAddress'),
    phoneNumber: pick('phoneNumber'),
    locales: c.locales ?? base?.locales ?? [],
    postalCode: pick('postalCode'),
    country: pick('country'),
    notes: pick('notes'),
  };
}

async function findRow(deps: BookingDeps, partnerId: string, uuid: string): Promise<BookingRow> {
  if (!isUuid(uuid)) throw new OctoError('INVALID_BOOKING_UUID', 'The uuid was missing or invalid', uuid);
  const [row] = await deps.db
    .select()
    .from(bookings)
    .where(and(eq(bookings.partnerId, partnerId), eq(bookings.uuid, uuid)));
  if (!row) throw new OctoError('INVALID_BOOKING_UUID', 'No booking has this uuid', uuid);
  return row;
}

async function reservationsOf(scope: RequestScope, ids: string[]): Promise<Map<string, ReservationSnapshot>> {
  if (ids.length === 0) return new Map();
  const reply = await scope.deps.commands.send('readReservations', {
    partner_id: scope.partnerId,
    reservation_ids: ids,
  });
  if (!reply.ok) throw fromRefusal(reply);
  return new Map(reply.reservations.map((r) => [r.reservation_id, r]));
}

async function ticketsOf(scope: RequestScope, reservation: ReservationSnapshot): Promise<Ticket[]> {
  // Tickets exist once a reservation was confirmed (a cancelled confirmed one keeps them, CANCELLED).
  if (!reservation.confirmed_at) return [];
  const reply = await scope.deps.commands.send('reservationTickets', {
    partner_id: scope.partnerId,
    reservation_id: reservation.reservation_id,
  });
  if (!reply.ok) throw fromRefusal(reply);
  return reply.tickets;
}

/** The latest of some ISO timestamps (all UTC with milliseconds, so they sort as strings). */
const latest = (...values: (string | null | undefined)[]): string =>
  values
    .filter((v): v is string => !!v)
    .sort()
    .at(-1) ?? '';

/** The OCTO booking of a row, its reservation and its tickets. */
async function compose(
  scope: RequestScope,
  row: BookingRow,
  reservation: ReservationSnapshot,
  tickets: Ticket[],
): Promise<OctoBooking> {
  const used = tickets.filter((t) => t.status === 'USED');
  const live = tickets.filter((t) => t.status !== 'CANCELLED');
  const redeemed = reservation.status === 'CONFIRMED' && live.length > 0 && used.length === live.length;
  const status: OctoBooking['status'] = redeemed ? 'REDEEMED' : reservation.status;
  const anyRedemption = tickets.some((t) => t.entitlements.some((e) => e.redeemed_at !== null));
  const currency = reservation.total.currency;
  const priceOf = (customerType: string): OctoPricing =>
    pricingOf(
      reservation.items.find((i) => i.customer_type === customerType)?.unit_price.amount ?? 0,
      currency,
    );
  const contact = row.contact as Contact;

  // Tickets are matched to unit items of the same unit (customer type), in order.
  const byType = new Map<string, Ticket[]>();
  for (const t of tickets) {
    const key = t.customer_type ?? '';
    byType.set(key, [...(byType.get(key) ?? []), t]);
  }
  const unitItems = (row.unitItems as StoredUnitItem[]).map((item) => {
    const ticket = byType.get(item.unitId)?.shift();
    const itemStatus: OctoBooking['status'] =
      ticket?.status === 'USED' ? 'REDEEMED' : ticket?.status === 'CANCELLED' ? 'CANCELLED' : status;
    const deliverable = ticket && (ticket.status === 'ACTIVE' || ticket.status === 'USED');
    return {
      uuid: item.uuid,
      resellerReference: item.resellerReference,
      supplierReference: ticket?.ticket_code ?? null,
      unitId: item.unitId,
      status: itemStatus,
      utcRedeemedAt: ticket?.used_at ?? null,
      contact: item.contact ?? contact,
      ticket: {
        redemptionMethod: 'DIGITAL' as const,
        utcRedeemedAt: ticket?.used_at ?? null,
        deliveryOptions: deliverable
          ? [{ deliveryFormat: 'QRCODE' as const, deliveryValue: ticket.ticket_code }]
          : [],
      },
      ...(scope.pricing ? { pricing: priceOf(item.unitId) } : {}),
    };
  });

  const catalogue = await scope.catalogue();
  const product = catalogue.find((p) => p.product_id === reservation.product_id);
  const availability = product
    ? availabilityOf(reservation.visit_date, await scope.availabilityContext(product))
    : null;
  const createdAt = reservation.created_at ?? row.createdAt.toISOString();
  return {
    id: reservation.reservation_id,
    uuid: row.uuid,
    testMode: false,
    resellerReference: row.resellerReference,
    supplierReference: reservation.reservation_id,
    status,
    utcCreatedAt: createdAt,
    utcUpdatedAt: latest(
      row.updatedAt.toISOString(),
      createdAt,
      reservation.confirmed_at,
      reservation.cancelled_at,
      ...used.map((t) => t.used_at),
    ),
    utcExpiresAt:
      reservation.status === 'ON_HOLD' || reservation.status === 'EXPIRED' ? reservation.expires_at : null,
    utcRedeemedAt: redeemed ? latest(...used.map((t) => t.used_at)) : null,
    utcConfirmedAt: reservation.confirmed_at,
    productId: String(reservation.product_id),
    optionId: OPTION_ID,
    cancellable: reservation.status === 'ON_HOLD' || (reservation.status === 'CONFIRMED' && !anyRedemption),
    cancellation:
      reservation.status === 'CANCELLED'
        ? {
            refund: 'FULL',
            reason: row.cancellationReason,
            utcCancelledAt: reservation.cancelled_at ?? row.updatedAt.toISOString(),
          }
        : null,
    freesale: false,
    availabilityId: availability?.id ?? null,
    availability,
    contact,
    notes: row.notes,
    deliveryMethods: ['TICKET'],
    voucher: null,
    unitItems,
    ...(scope.pricing ? { pricing: pricingOf(reservation.total.amount, currency) } : {}),
  };
}

async function bookingOfRow(scope: RequestScope, row: BookingRow): Promise<OctoBooking> {
  const reservation = (await reservationsOf(scope, [row.reservationId])).get(row.reservationId);
  if (!reservation) throw new OctoError('INTERNAL_SERVER_ERROR', 'The booking has no reservation');
  return compose(scope, row, reservation, await ticketsOf(scope, reservation));
}

function expirationSeconds(minutes: number | undefined, fallbackSeconds: number): number {
  if (minutes === undefined) return fallbackSeconds;
  if (minutes < 1 || minutes > MAX_EXPIRATION_MINUTES) {
    throw badRequest(`expirationMinutes must be between 1 and ${MAX_EXPIRATION_MINUTES}`);
  }
  return minutes * 60;
}

const sameUnits = (a: { unitId: string }[], b: { unitId: string }[]) =>
  a
    .map((u) => u.unitId)
    .sort()
    .join(',') ===
  b
    .map((u) => u.unitId)
    .sort()
    .join(',');

/** POST /octo/bookings: an ON_HOLD reservation in the caller's ota pool, idempotent by uuid. */
export async function createBooking(scope: RequestScope, rawBody: unknown): Promise<OctoBooking> {
  const { deps, partnerId } = scope;
  const body = parsed(zBookingReservationBody, rawBody);
  const product = findProduct(await scope.catalogue(), body.productId);
  checkOption(body.optionId);
  const visitDate = dateOfAvailabilityId(body.availabilityId, deps.timeZone);
  if (visitDate < venueDate(new Date(), deps.timeZone)) {
    throw new OctoError(
      'INVALID_AVAILABILITY_ID',
      'The availability is CLOSED (a past day)',
      body.availabilityId,
    );
  }
  if (body.unitItems.length === 0) throw badRequest('unitItems must not be empty');
  if (body.unitItems.length > MAX_UNITS) throw badRequest(`a booking holds at most ${MAX_UNITS} units`);
  for (const item of body.unitItems) {
    if (!product.prices.some((p) => p.customer_type === item.unitId)) {
      throw new OctoError('INVALID_UNIT_ID', 'The unitId was missing or invalid', item.unitId);
    }
  }
  const holdSeconds = expirationSeconds(body.expirationMinutes, deps.defaultHoldSeconds);
  const uuid = body.uuid ?? randomUUID();

  const replay = async (row: BookingRow) => {
    if (
      row.productId !== product.product_id ||
      row.visitDate !== visitDate ||
      !sameUnits(row.unitItems as StoredUnitItem[], body.unitItems)
    ) {
      throw new OctoError('INVALID_BOOKING_UUID', 'The uuid was already used for another booking', uuid);
    }
    return bookingOfRow(scope, row);
  };
  const [existing] = await deps.db
    .select()
    .from(bookings)
    .where(and(eq(bookings.partnerId, partnerId), eq(bookings.uuid, uuid)));
  if (existing) return replay(existing);

  const quantities = new Map<string, number>();
  for (const item of body.unitItems) quantities.set(item.unitId, (quantities.get(item.unitId) ?? 0) + 1);
  const held = await deps.commands.send('holdReservation', {
    // Idempotent in inventory by this ref: a retried or concurrent create holds once.
    ref: `octo:${partnerId}:${uuid}`,
    partner_id: partnerId,
    product_id: product.product_id,
    visit_date: visitDate,
    reseller_reference: body.resellerReference ?? null,
    items: [...quantities].map(([customer_type, quantity]) => ({ customer_type, quantity })),
    hold_seconds: holdSeconds,
  });
  if (!held.ok) {
    if (held.code === 'INSUFFICIENT_INVENTORY') {
      throw new OctoError('UNPROCESSABLE_ENTITY', `Sold out: ${held.detail}`);
    }
    if (held.code === 'IDEMPOTENCY_KEY_REUSED') {
      throw new OctoError('INVALID_BOOKING_UUID', 'The uuid was already used for another booking', uuid);
    }
    throw fromRefusal(held, uuid);
  }
  const contact = fullContact(body.contact);
  await deps.db
    .insert(bookings)
    .values({
      partnerId,
      uuid,
      reservationId: held.reservation.reservation_id,
      productId: product.product_id,
      visitDate,
      resellerReference: body.resellerReference ?? null,
      notes: body.notes ?? null,
      contact,
      unitItems: body.unitItems.map(
        (item): StoredUnitItem => ({
          uuid: item.uuid ?? randomUUID(),
          unitId: item.unitId,
          resellerReference: item.resellerReference ?? null,
          contact: item.contact ? fullContact(item.contact) : null,
        }),
      ),
    })
    // A concurrent create of the same uuid got the same reservation from inventory; one row stands.
    .onConflictDoNothing();
  const row = await findRow(deps, partnerId, uuid);
  return replay(row);
}

export async function getBooking(scope: RequestScope, uuid: string): Promise<OctoBooking> {
  return bookingOfRow(scope, await findRow(scope.deps, scope.partnerId, uuid));
}

/** POST /octo/bookings/{uuid}/extend: `expirationMinutes` more on the hold (capped at 48 h from creation). */
export async function extendBooking(
  scope: RequestScope,
  uuid: string,
  rawBody: unknown,
): Promise<OctoBooking> {
  const row = await findRow(scope.deps, scope.partnerId, uuid);
  const body = parsed(zExtendReservationBody, rawBody);
  const seconds = expirationSeconds(body.expirationMinutes ?? DEFAULT_EXTEND_MINUTES, 0);
  const reply = await scope.deps.commands.send('extendHold', {
    partner_id: scope.partnerId,
    reservation_id: row.reservationId,
    seconds,
  });
  if (!reply.ok) throw fromRefusal(reply, uuid);
  return compose(scope, row, reply.reservation, []);
}

/** POST /octo/bookings/{uuid}/confirm: a sale on the partner's account, tickets issued as for a payment. */
export async function confirmBooking(
  scope: RequestScope,
  uuid: string,
  rawBody: unknown,
): Promise<OctoBooking> {
  const { deps, partnerId } = scope;
  const row = await findRow(deps, partnerId, uuid);
  const body = parsed(zBookingConfirmationBody, rawBody);
  const reply = await deps.commands.send('confirmOnAccount', {
    partner_id: partnerId,
    reservation_id: row.reservationId,
  });
  if (!reply.ok) {
    if (reply.code === 'RESERVATION_EXPIRED') {
      throw new OctoError('INVALID_BOOKING_UUID', 'The booking expired before it was confirmed', uuid);
    }
    throw fromRefusal(reply, uuid);
  }
  const given = new Map((body.unitItems ?? []).filter((u) => u.uuid).map((u) => [u.uuid as string, u]));
  const unitItems = (row.unitItems as StoredUnitItem[]).map((item) => {
    const update = given.get(item.uuid);
    return update
      ? {
          ...item,
          resellerReference: update.resellerReference ?? item.resellerReference,
          contact: update.contact ? fullContact(update.contact) : item.contact,
        }
      : item;
  });
  const [updated] = await deps.db
    .update(bookings)
    .set({
      contact: fullContact(body.contact),
      resellerReference: body.resellerReference ?? row.resellerReference,
      unitItems,
      updatedAt: new Date(),
    })
    .where(and(eq(bookings.partnerId, partnerId), eq(bookings.uuid, row.uuid)))
    .returning();
  return bookingOfRow(scope, updated ?? row);
}

/**
 * POST /octo/bookings/{uuid}/cancel: a held booking's units go back; a confirmed one's tickets are
 * cancelled (units back too) unless one is redeemed. Cancelling a cancelled booking answers it again.
 */
export async function cancelBooking(
  scope: RequestScope,
  uuid: string,
  rawBody: unknown,
): Promise<OctoBooking> {
  const { deps, partnerId } = scope;
  const row = await findRow(deps, partnerId, uuid);
  const body = parsed(zBookingCancellationBody, rawBody);
  const reservation = (await reservationsOf(scope, [row.reservationId])).get(row.reservationId);
  if (!reservation) throw new OctoError('INVALID_BOOKING_UUID', 'No booking has this uuid', uuid);
  if (reservation.status === 'EXPIRED') {
    throw new OctoError('UNPROCESSABLE_ENTITY', 'The booking expired; there is nothing to cancel');
  }
  if (reservation.status !== 'CANCELLED') {
    const reply =
      reservation.status === 'ON_HOLD'
        ? await deps.commands.send('cancelHold', { partner_id: partnerId, reservation_id: row.reservationId })
        : await deps.commands.send('cancelReservationTickets', {
            partner_id: partnerId,
            reservation_id: row.reservationId,
          });
    if (!reply.ok) {
      if (reply.code === 'TICKET_NOT_CANCELLABLE') {
        throw new OctoError(
          'UNPROCESSABLE_ENTITY',
          'A ticket of this booking was redeemed; it cannot be cancelled',
        );
      }
      throw fromRefusal(reply, uuid);
    }
    await deps.db
      .update(bookings)
      .set({ cancellationReason: body.reason ?? null, updatedAt: new Date() })
      .where(and(eq(bookings.partnerId, partnerId), eq(bookings.uuid, row.uuid)));
  }
  return getBooking(scope, uuid);
}

export interface BookingFilters {
  resellerReference?: string | undefined;
  supplierReference?: string | undefined;
  localDateStart?: string | undefined;
  localDateEnd?: string | undefined;
  productId?: string | undefined;
}

/** GET /octo/bookings: the caller's OCTO bookings matching every given filter (at least one). */
export async function listBookings(scope: RequestScope, filters: BookingFilters): Promise<OctoBooking[]> {
  const { deps, partnerId } = scope;
  if (!Object.values(filters).some((v) => v !== undefined && v !== '')) {
    throw badRequest(
      'Give at least one filter: resellerReference, supplierReference, localDateStart/localDateEnd or productId',
    );
  }
  const where: SQL[] = [eq(bookings.partnerId, partnerId)];
  if (filters.resellerReference) where.push(eq(bookings.resellerReference, filters.resellerReference));
  if (filters.supplierReference) {
    if (!isUuid(filters.supplierReference)) return [];
    where.push(eq(bookings.reservationId, filters.supplierReference));
  }
  for (const [name, value] of [
    ['localDateStart', filters.localDateStart],
    ['localDateEnd', filters.localDateEnd],
  ] as const) {
    if (value !== undefined && (!isValidDate(value) || value < '1900-01-01' || value > '2999-12-31')) {
      throw badRequest(`${name} must be a date YYYY-MM-DD between 1900-01-01 and 2999-12-31`);
    }
  }
  if (filters.localDateStart) where.push(gte(bookings.visitDate, filters.localDateStart));
  if (filters.localDateEnd) where.push(lte(bookings.visitDate, filters.localDateEnd));
  if (filters.productId) {
    if (!/^\d{1,9}$/.test(filters.productId)) return [];
    where.push(eq(bookings.productId, Number(filters.productId)));
  }
  const rows = await deps.db
    .select()
    .from(bookings)
    .where(and(...where))
    .orderBy(desc(bookings.createdAt))
    .limit(LIST_LIMIT);
  const reservations = await reservationsOf(
    scope,
    rows.map((r) => r.reservationId),
  );
  const answer: OctoBooking[] = [];
  for (const row of rows) {
    const reservation = reservations.get(row.reservationId);
    if (!reservation) continue;
    answer.push(await compose(scope, row, reservation, await ticketsOf(scope, reservation)));
  }
  return answer;
}
