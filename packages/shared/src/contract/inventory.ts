// Public routes owned by the inventory service (see ../shared/api.md): the catalogue and price matrix,
// reservations (holds in the partner's ota pool) and the operator's allocations.
import { z } from 'zod';
import {
  channel,
  customerType,
  dateOrDateTime,
  defineRoute,
  idempotencyHeaders,
  isoDate,
  money,
  pageOf,
  paginationQuery,
  partnerChannel,
  productId,
  type RouteDef,
  reservationStatus,
  uuid,
} from './common.ts';
import { ticket } from './issuance/index.ts';

export const MAX_UNITS_PER_RESERVATION = 100;

const counters = z.object({
  allocated: z.number().int(),
  held: z.number().int(),
  sold: z.number().int(),
  available: z.number().int(),
});

export const inventoryQuery = z.object({
  visit_date: isoDate
    .optional()
    .describe(
      "Prices for this date (default: today in the venue's time zone); Saturday and Sunday are weekend",
    ),
});

export const inventoryViewResponse = z
  .object({
    as_of: z.string(),
    visit_date: z.string(),
    day_type: z.enum(['weekday', 'weekend']),
    products: z.array(
      z.object({
        product_id: z.number().int(),
        name: z.string(),
        functions: z.array(z.object({ function_code: z.string(), name: z.string() })),
        channels: z.object({ ota: counters, reseller: counters }),
        pricing: z.object({
          currency: z.string(),
          customer_types: z.array(
            z.object({
              customer_type: z.string(),
              weekday: z.number().int(),
              weekend: z.number().int(),
              /** The price on `visit_date`'s day type. */
              price: z.number().int(),
              discount_vs_adult: z.number().int(),
            }),
          ),
        }),
      }),
    ),
  })
  .meta({ id: 'InventoryView' });

export const createReservationBody = z
  .object({
    product_id: productId,
    visit_date: isoDate,
    reseller_reference: z.string().min(1).max(255).nullish(),
    reseller_id: uuid.nullish(),
    items: z
      .array(
        z.object({
          customer_type: customerType,
          quantity: z.number().int().min(1).max(MAX_UNITS_PER_RESERVATION),
        }),
      )
      .min(1)
      .max(20),
  })
  .superRefine((body, ctx) => {
    const units = body.items.reduce((n, i) => n + i.quantity, 0);
    if (units > MAX_UNITS_PER_RESERVATION) {
      ctx.addIssue({
        code: 'custom',
        path: ['items'],
        message: `a reservation holds at most ${MAX_UNITS_PER_RESERVATION} units (got ${units})`,
      });
    }
  })
  .describe(
    'Holds units in the caller’s ota pool. 1..100 units in all; lines of the same customer_type are merged. ' +
      'visit_date must not be in the past (venue time zone).',
  );
export type CreateReservationBody = z.infer<typeof createReservationBody>;

export const reservationResponse = z
  .object({
    reservation_id: uuid,
    status: reservationStatus,
    product_id: z.number().int(),
    visit_date: z.string(),
    reseller_id: z.string().nullable(),
    reseller_reference: z.string().nullable(),
    items: z.array(z.object({ customer_type: z.string(), quantity: z.number().int(), unit_price: money })),
    quantity: z.number().int(),
    total: money,
    expires_at: z.string(),
    created_at: z.string(),
    confirmed_at: z.string().nullable(),
    tickets: z
      .array(ticket)
      .describe(
        'The tickets issued for a CONFIRMED reservation when it is read alone (GET …/{reservation_id}); ' +
          '[] before confirmation and in lists (use GET /api/ota/tickets?reservation_id=).',
      ),
  })
  .meta({ id: 'Reservation' });

export const reservationParams = z.object({ reservation_id: uuid });

export const reservationListQuery = paginationQuery.extend({
  status: reservationStatus.optional(),
  product_id: productId.optional(),
  reseller_reference: z.string().min(1).max(255).optional(),
  created_from: dateOrDateTime.optional().describe('Inclusive; a date means 00:00 UTC of that day'),
  created_to: dateOrDateTime.optional().describe('Exclusive; a date means 00:00 UTC of that day'),
});

export const allocationPoolResponse = z
  .object({
    product_id: z.number().int(),
    channel,
    partner_id: z.string().nullable(),
    allocated: z.number().int(),
    held: z.number().int(),
    sold: z.number().int(),
    available: z.number().int(),
  })
  .meta({ id: 'Pool' });

const allocatedUnits = z.number().int().min(0).max(10_000_000);

export const partnerAllocationBody = z.object({
  product_id: productId,
  channel: partnerChannel,
  allocated: allocatedUnits,
});

export const directAllocationBody = z.object({
  product_id: productId,
  channel: z.literal('direct').optional(),
  allocated: allocatedUnits,
});

export const allocationPartnerParams = z.object({ partner_id: uuid });

const reservationErrors = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'] as const;

export const getInventoryRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/inventory',
  operationId: 'getInventory',
  summary: "The caller's ota and reseller pools and the full price matrix for a visit date",
  tags: ['Inventory'],
  auth: 'partner',
  service: 'inventory',
  querystring: inventoryQuery,
  response: { 200: inventoryViewResponse },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

// Served by issuance (it owns resellers): it checks the named reseller, then asks inventory to hold.
export const createReservationRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/reservations',
  operationId: 'createReservation',
  summary: "Hold units in the caller's ota pool (24 h by default)",
  tags: ['Reservations'],
  auth: 'partner',
  service: 'issuance',
  headers: idempotencyHeaders,
  body: createReservationBody,
  response: { 201: reservationResponse },
  errors: [
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'INSUFFICIENT_INVENTORY',
    'UNKNOWN_PRODUCT',
    'UNKNOWN_CUSTOMER_TYPE',
    'IDEMPOTENCY_KEY_REUSED',
  ],
});

export const listReservationsRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/reservations',
  operationId: 'listReservations',
  summary: "The caller's reservations, newest first",
  tags: ['Reservations'],
  auth: 'partner',
  service: 'inventory',
  querystring: reservationListQuery,
  response: { 200: pageOf(reservationResponse) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

// Served by issuance (it owns tickets): it asks inventory for the reservation and adds the tickets.
export const getReservationRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/reservations/:reservation_id',
  operationId: 'getReservation',
  summary: 'One of the caller’s reservations',
  tags: ['Reservations'],
  auth: 'partner',
  service: 'issuance',
  params: reservationParams,
  response: { 200: reservationResponse },
  errors: [...reservationErrors],
});

export const cancelReservationRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/reservations/:reservation_id/cancel',
  operationId: 'cancelReservation',
  summary: 'Cancel an ON_HOLD reservation and release its units',
  tags: ['Reservations'],
  auth: 'partner',
  service: 'inventory',
  params: reservationParams,
  response: { 200: reservationResponse },
  errors: [...reservationErrors, 'RESERVATION_NOT_ON_HOLD'],
});

export const setPartnerAllocationRoute = defineRoute({
  method: 'PUT',
  path: '/api/admin/partners/:partner_id/allocations',
  operationId: 'setPartnerAllocation',
  summary: "Set a partner's ota or reseller allocation of a product",
  tags: ['Operators'],
  auth: 'admin',
  service: 'inventory',
  params: allocationPartnerParams,
  body: partnerAllocationBody,
  response: { 200: allocationPoolResponse },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNKNOWN_PRODUCT', 'ALLOCATION_CONFLICT'],
});

export const setDirectAllocationRoute = defineRoute({
  method: 'PUT',
  path: '/api/admin/direct/allocations',
  operationId: 'setDirectAllocation',
  summary: "Set the operator's direct allocation of a product",
  tags: ['Operators'],
  auth: 'admin',
  service: 'inventory',
  body: directAllocationBody,
  response: { 200: allocationPoolResponse },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNKNOWN_PRODUCT', 'ALLOCATION_CONFLICT'],
});

export const inventoryRoutes: RouteDef[] = [
  getInventoryRoute,
  createReservationRoute,
  listReservationsRoute,
  getReservationRoute,
  cancelReservationRoute,
  setPartnerAllocationRoute,
  setDirectAllocationRoute,
];

// ---------------------------------------------------------------- apps (scanner, console)

export const catalogueResponse = z
  .object({
    products: z.array(
      z.object({
        product_id: z.number().int(),
        name: z.string(),
        functions: z.array(z.object({ function_code: z.string(), name: z.string() })),
      }),
    ),
  })
  .meta({ id: 'Catalogue' });

export const adminPoolsQuery = z.object({
  /** Only this partner's pools; absent means every pool (the direct pools and all partners'). */
  partner_id: uuid.optional(),
});

/** Operator reads the apps need that the partner API lacks (see api.md, "Apps"). */
export const getCatalogueRoute = defineRoute({
  method: 'GET',
  path: '/api/catalogue',
  operationId: 'getCatalogue',
  summary:
    'Products and their functions (entitlement codes), public: the scanner app offers these function codes',
  tags: ['Inventory'],
  auth: 'public',
  service: 'inventory',
  response: { 200: catalogueResponse },
  errors: ['RATE_LIMITED'],
});

export const listAllPoolsRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/pools',
  operationId: 'listAllPools',
  summary:
    'Every pool (direct and every partner’s ota and reseller) with allocated, held, sold and available',
  tags: ['Operators'],
  auth: 'admin',
  service: 'inventory',
  querystring: adminPoolsQuery,
  response: { 200: z.object({ data: z.array(allocationPoolResponse) }) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const appsInventoryRoutes: RouteDef[] = [getCatalogueRoute, listAllPoolsRoute];
// Appended (not spliced into the literal above) so the routes every partner uses stay as they were.
inventoryRoutes.push(...appsInventoryRoutes);
