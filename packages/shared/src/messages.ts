// NATS commands (request/reply between services) and events (JetStream), each with its zod schema.
// Subjects here are relative: `subject(prefix, name)` puts the deployment's prefix in front.
import { z } from 'zod';
import {
  channel,
  customerType,
  errorCode,
  money,
  productId,
  reservationStatus,
  ticketStatus,
} from './contract/common.ts';
import { createReservationBody, reservationResponse } from './contract/inventory.ts';
import { ticket } from './contract/issuance/index.ts';
import { webhookEventType } from './contract/webhooks.ts';

/** Every command reply: `{ ok: true, ... }` or a typed refusal the caller turns into its own answer. */
export const refusalSchema = z.object({
  ok: z.literal(false),
  code: errorCode,
  detail: z.string(),
  extensions: z.record(z.string(), z.unknown()).optional(),
});
const okReply = <T extends z.ZodRawShape>(shape: T) => z.object({ ok: z.literal(true), ...shape });
const reply = <T extends z.ZodRawShape>(shape: T) =>
  z.discriminatedUnion('ok', [okReply(shape), refusalSchema]);

const productInfo = z.object({
  product_id: productId,
  name: z.string(),
  /** The entitlements a ticket of this product carries, in redemption order. */
  functions: z.array(z.string()),
});
const pricedItem = z.object({
  customer_type: customerType,
  quantity: z.number().int().positive(),
  unit_price: money,
});

export const reservationSnapshot = z.object({
  reservation_id: z.uuid(),
  partner_id: z.uuid(),
  product_id: productId,
  visit_date: z.string(),
  reseller_id: z.uuid().nullable(),
  reseller_reference: z.string().nullable(),
  status: reservationStatus,
  items: z.array(pricedItem),
  quantity: z.number().int(),
  total: money,
  expires_at: z.string(),
  confirmed_at: z.string().nullable(),
  payment_id: z.string().nullable(),
  /** Present on replies to the OCTO adapter's commands (and every snapshot built since they exist). */
  created_at: z.string().optional(),
  cancelled_at: z.string().nullable().optional(),
});
export type ReservationSnapshot = z.infer<typeof reservationSnapshot>;

export const ticketSnapshot = z.object({
  ticket_code: z.string(),
  partner_id: z.uuid().nullable(),
  channel,
  product_id: productId,
  product_name: z.string(),
  status: ticketStatus,
  entitlements: z.array(z.object({ function_code: z.string(), redeemed_at: z.string().nullable() })),
  /** Increases with every state change, so a consumer applies only newer snapshots. */
  revision: z.number().int().nonnegative(),
  created_at: z.string(),
});
export type TicketSnapshot = z.infer<typeof ticketSnapshot>;

/** A reservation as the contract shows it, without its tickets (issuance owns those and adds them). */
const reservationView = reservationResponse.omit({ tickets: true });

/** Request/reply commands: subject, request schema and reply schema. Responders use queue groups. */
export const commands = {
  /** Reads one reservation (any partner's; the webhook is not partner-scoped). */
  getReservation: {
    subject: 'inventory.cmd.get-reservation',
    request: z.object({ reservation_id: z.uuid() }),
    reply: reply({ reservation: reservationSnapshot }),
  },
  /**
   * Held → sold for a paid reservation, checking the amount. Idempotent by `payment_id`: the same
   * payment confirming again gets the same answer. An expired hold is re-held when the pool has room,
   * else RESERVATION_EXPIRED; cancelled → RESERVATION_NOT_ON_HOLD; unknown → NOT_FOUND.
   */
  confirmHold: {
    subject: 'inventory.cmd.confirm-hold',
    request: z.object({ reservation_id: z.uuid(), payment_id: z.string().min(1), amount: money }),
    reply: reply({ reservation: reservationSnapshot, product: productInfo, reheld: z.boolean() }),
  },
  /** Holds `quantity` units in the partner's reseller pool for a batch. Idempotent by `batch_id`. */
  holdBatch: {
    subject: 'inventory.cmd.hold-batch',
    request: z.object({
      batch_id: z.uuid(),
      partner_id: z.uuid(),
      product_id: productId,
      quantity: z.number().int().positive(),
    }),
    reply: reply({ product: productInfo }),
  },
  /** One held reseller unit → sold, priced for the customer type on `date`. Idempotent by `ref`. */
  sellHeld: {
    subject: 'inventory.cmd.sell-held',
    request: z.object({
      ref: z.string().min(1),
      partner_id: z.uuid(),
      product_id: productId,
      channel: z.literal('reseller'),
      customer_type: customerType,
      date: z.string(),
    }),
    reply: reply({ unit_price: money }),
  },
  /** Returns units to a pool (from held or from sold). Idempotent by `ref`. */
  release: {
    subject: 'inventory.cmd.release',
    request: z.object({
      ref: z.string().min(1),
      partner_id: z.uuid().nullable(),
      product_id: productId,
      channel,
      from: z.enum(['held', 'sold']),
      quantity: z.number().int().positive(),
      reason: z.enum(['cancel', 'expire']),
    }),
    reply: reply({}),
  },
  /** The operator's own sale from the direct pool, sold at once. Idempotent by `order_id`. */
  directSale: {
    subject: 'inventory.cmd.direct-sale',
    request: z.object({
      order_id: z.uuid(),
      product_id: productId,
      visit_date: z.string(),
      items: z.array(z.object({ customer_type: customerType, quantity: z.number().int().positive() })).min(1),
    }),
    reply: reply({ items: z.array(pricedItem), total: money, product: productInfo }),
  },
  /** A partner's pools (or the direct pool with partner_id null), for reconciliation. */
  listPools: {
    subject: 'inventory.cmd.list-pools',
    request: z.object({ partner_id: z.uuid().nullable() }),
    reply: reply({
      pools: z.array(
        z.object({
          product_id: productId,
          channel,
          allocated: z.number().int(),
          held: z.number().int(),
          sold: z.number().int(),
          available: z.number().int(),
        }),
      ),
    }),
  },
  /**
   * A partner's REST reservation (`POST /api/ota/reservations`), sent by issuance once it has checked the
   * named reseller (issuance owns resellers; inventory never asks it). Inventory checks the visit date,
   * holds the units and records the `Idempotency-Key` exactly as the route did: a repeat answers the
   * first reservation with `replayed`, another request under the same key is IDEMPOTENCY_KEY_REUSED.
   */
  createReservation: {
    subject: 'inventory.cmd.create-reservation',
    request: z.object({
      partner_id: z.uuid(),
      idempotency_key: z.string().min(1).max(255).optional(),
      reservation: createReservationBody,
    }),
    reply: reply({ status: z.number().int(), reservation: reservationView, replayed: z.boolean() }),
  },
  /** One of a partner's reservations as the contract shows it, for issuance to add the tickets. */
  partnerReservation: {
    subject: 'inventory.cmd.partner-reservation',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ reservation: reservationView }),
  },
  /** The tickets issued for one of a partner's reservations (the OCTO adapter's booking view). */
  reservationTickets: {
    subject: 'issuance.cmd.reservation-tickets',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ tickets: z.array(ticket) }),
  },
  // The OCTO adapter's commands (services/octo): each is a thin wrapper over an existing domain
  // function of the service that answers it. Commands flow one way: octo → inventory, octo → issuance
  // (→ inventory); inventory never asks back.
  /**
   * Holds units in the partner's ota pool (the REST reservation's `reserve`), with the hold's own length.
   * Idempotent by `ref` (the OCTO booking's partner and uuid).
   */
  holdReservation: {
    subject: 'inventory.cmd.hold-reservation',
    request: z.object({
      ref: z.string().min(1).max(200),
      partner_id: z.uuid(),
      product_id: productId,
      visit_date: z.string(),
      reseller_reference: z.string().max(255).nullable(),
      items: z.array(z.object({ customer_type: customerType, quantity: z.number().int().positive() })).min(1),
      hold_seconds: z.number().int().positive(),
    }),
    reply: reply({ reservation: reservationSnapshot }),
  },
  /** Adds `seconds` to an ON_HOLD reservation's expiry (never past 48 h from its creation). */
  extendHold: {
    subject: 'inventory.cmd.extend-hold',
    request: z.object({
      partner_id: z.uuid(),
      reservation_id: z.uuid(),
      seconds: z.number().int().positive(),
    }),
    reply: reply({ reservation: reservationSnapshot }),
  },
  /** ON_HOLD → CANCELLED with the units back (the REST cancel). */
  cancelHold: {
    subject: 'inventory.cmd.cancel-hold',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ reservation: reservationSnapshot }),
  },
  /**
   * CONFIRMED → CANCELLED once issuance has cancelled every ticket (each ticket's release already
   * returned its unit). Idempotent: an already CANCELLED reservation is answered as it is.
   */
  closeReservation: {
    subject: 'inventory.cmd.close-reservation',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ reservation: reservationSnapshot }),
  },
  /** Some of a partner's reservations by id (another partner's are simply missing from the answer). */
  readReservations: {
    subject: 'inventory.cmd.read-reservations',
    request: z.object({ partner_id: z.uuid(), reservation_ids: z.array(z.uuid()).min(1).max(500) }),
    reply: reply({ reservations: z.array(reservationSnapshot) }),
  },
  /** The catalogue with its price matrix (weekday and weekend amounts per customer type). */
  catalogue: {
    subject: 'inventory.cmd.catalogue',
    request: z.object({}),
    reply: reply({
      products: z.array(
        z.object({
          product_id: productId,
          name: z.string(),
          currency: z.string(),
          functions: z.array(z.object({ function_code: z.string(), name: z.string() })),
          prices: z.array(
            z.object({ customer_type: z.string(), weekday: z.number().int(), weekend: z.number().int() }),
          ),
        }),
      ),
    }),
  },
  /**
   * A sale on the partner's account: issuance records an on-account payment of the reservation's total
   * and runs the payment webhook's own confirm-and-issue path. Idempotent by the reservation.
   */
  confirmOnAccount: {
    subject: 'issuance.cmd.confirm-on-account',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ tickets: z.array(ticket) }),
  },
  /**
   * Cancels every ticket of a confirmed reservation (units back to the pool) unless one is redeemed
   * (TICKET_NOT_CANCELLABLE), then has inventory close the reservation.
   */
  cancelReservationTickets: {
    subject: 'issuance.cmd.cancel-reservation-tickets',
    request: z.object({ partner_id: z.uuid(), reservation_id: z.uuid() }),
    reply: reply({ tickets: z.array(ticket) }),
  },
  /** Issuance's current view of one ticket, for redemption when its projection has not seen it yet. */
  ticketSnapshot: {
    subject: 'issuance.cmd.ticket-snapshot',
    request: z.object({ ticket_code: z.string().min(1).max(64) }),
    reply: reply({ ticket: ticketSnapshot }),
  },
} as const;

export type CommandName = keyof typeof commands;
export type CommandRequest<N extends CommandName> = z.input<(typeof commands)[N]['request']>;
export type CommandReply<N extends CommandName> = z.output<(typeof commands)[N]['reply']>;

/**
 * Partner-facing events (api.md "Partner webhooks and the event feed"), rendered by the service that
 * owns the object, in the same transaction as the change: only the owner can show the object as it was
 * at that moment. `event_id` is fixed when the outbox row is written, so a redelivery keeps it;
 * `revision` is the object's own, or the outbox row's id for objects without one (`appendPartnerEvents`).
 */
export const partnerEventsData = z.object({
  events: z.array(
    z.object({
      event_id: z.uuid(),
      type: webhookEventType,
      partner_id: z.uuid(),
      created_at: z.string(),
      revision: z.number().int().nonnegative(),
      data: z.record(z.string(), z.unknown()),
    }),
  ),
});
export type PartnerEventsData = z.infer<typeof partnerEventsData>;

/** Events: published through each service's outbox onto the JetStream stream. */
export const events = {
  inventoryPartnerEvents: { subject: 'events.inventory.partner-events', data: partnerEventsData },
  issuancePartnerEvents: { subject: 'events.issuance.partner-events', data: partnerEventsData },
  ticketsIssued: {
    subject: 'events.issuance.tickets.issued',
    data: z.object({ tickets: z.array(ticketSnapshot) }),
  },
  /**
   * A batch chunk's PRE_GENERATED tickets in compact form: what they all share once, and their codes
   * (batch order). Each code stands for the snapshot `{ ticket_code, ...ticket }`; a consumer treats it
   * exactly as a `tickets.issued` of those snapshots. A 2,000-ticket chunk is ~55 kB instead of
   * ~700 kB of repeated snapshots (issuance puts at most 10,000 codes in one, well under NATS's 1 MB).
   */
  ticketsGenerated: {
    subject: 'events.issuance.tickets.generated',
    data: z.object({
      batch_id: z.uuid(),
      ticket: ticketSnapshot.omit({ ticket_code: true }),
      ticket_codes: z.array(z.string()),
    }),
  },
  ticketsActivated: {
    subject: 'events.issuance.tickets.activated',
    data: z.object({ tickets: z.array(ticketSnapshot) }),
  },
  ticketsCancelled: {
    subject: 'events.issuance.tickets.cancelled',
    data: z.object({ tickets: z.array(ticketSnapshot) }),
  },
  ticketsExpired: {
    subject: 'events.issuance.tickets.expired',
    data: z.object({ tickets: z.array(ticketSnapshot) }),
  },
  ticketRedeemed: {
    subject: 'events.redemption.tickets.redeemed',
    data: z.object({ ticket_code: z.string(), function_code: z.string(), redeemed_at: z.string() }),
  },
  ticketUsed: {
    subject: 'events.redemption.tickets.used',
    data: z.object({
      ticket_code: z.string(),
      used_at: z.string(),
      entitlements: z.array(z.object({ function_code: z.string(), redeemed_at: z.string() })),
    }),
  },
  reservationsExpired: {
    subject: 'events.inventory.reservations.expired',
    data: z.object({
      reservations: z.array(
        z.object({
          reservation_id: z.uuid(),
          partner_id: z.uuid(),
          product_id: productId,
          quantity: z.number().int(),
        }),
      ),
    }),
  },
} as const;

export type EventName = keyof typeof events;
export type EventData<N extends EventName> = z.infer<(typeof events)[N]['data']>;

/** What goes on the wire for every event. */
export const eventEnvelope = z.object({
  id: z.string(),
  type: z.string(),
  occurred_at: z.string(),
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof eventEnvelope>;

export function subject(prefix: string, name: string): string {
  return `${prefix}.${name}`;
}

export function streamName(prefix: string): string {
  return `${prefix.replaceAll('-', '_').toUpperCase()}_EVENTS`;
}
