// What the OpenAPI document says beyond the schemas, keyed by operationId: a description and an example
// request and response for every operation (taken from ../shared/api.md), a description for every tag,
// and for the fields whose meaning the name does not carry. Kept apart from the contract's route files so
// adding a route and documenting it are two small edits; `undocumentedOperations` (checked by
// `pnpm openapi:lint` and the gateway's OpenAPI test) names every operation still missing here.

export interface OperationDocs {
  /** What the operation does, for whom, and what a caller should know beyond the summary. */
  description: string;
  /** An example request body (required when the operation has one). */
  request?: unknown;
  /** Example values of path, query and header parameters, by parameter name. */
  parameters?: Record<string, unknown>;
  /** An example body of each success response, by status (`null` for a 204). */
  responses: Record<number, unknown>;
}

const PARTNER_ID = '6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f';
const KEY_ID = '0b7e6a52-3c1d-4e8f-a9b0-c1d2e3f4a5b6';
const RESERVATION_ID = '3d6f0a8e-2b4c-4d1e-8f9a-0b1c2d3e4f5a';
const BATCH_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const RESELLER_ID = '5c4b3a29-1807-4f6e-9d5c-4b3a29180706';
const ORDER_ID = '7e6d5c4b-3a29-4817-8f6e-5d4c3b2a1908';
const DEVICE_ID = '2f3e4d5c-6b7a-4980-8f7e-6d5c4b3a2918';
const TICKET_CODE = 'K7M2Q9T4X8B3N6R1Z5W0P2C4';
const QR_TOKEN =
  'eyJ0IjoiSzdNMlE5VDRYOEIzTjZSMVo1VzBQMkM0IiwidiI6MSwiZSI6MTc5NjEwNDIwMH0.5b8f0c1e9a7d4c2b6e3f1a0d9c8b7a6f';
const USD = (amount: number) => ({ amount, currency: 'USD' });

const reservation = {
  reservation_id: RESERVATION_ID,
  status: 'ON_HOLD',
  product_id: 106,
  visit_date: '2026-12-05',
  reseller_id: null,
  reseller_reference: 'OTA-ORDER-991',
  items: [
    { customer_type: 'adult', quantity: 2, unit_price: USD(31800) },
    { customer_type: 'child', quantity: 1, unit_price: USD(21800) },
  ],
  quantity: 3,
  total: USD(85400),
  expires_at: '2026-11-25T09:30:00.000Z',
  created_at: '2026-11-24T09:30:00.000Z',
  confirmed_at: null,
  tickets: [],
};

const ticket = {
  ticket_code: TICKET_CODE,
  product_id: 106,
  status: 'ACTIVE',
  channel: 'ota',
  reservation_id: RESERVATION_ID,
  batch_id: null,
  order_id: null,
  reseller: null,
  customer_type: 'adult',
  price: USD(31800),
  customer: null,
  order_reference: null,
  entitlements: [
    { function_code: 'FERRY', redeemed_at: null },
    { function_code: 'PREMIUM_LOUNGE', redeemed_at: null },
    { function_code: 'BUFFET_DINNER', redeemed_at: null },
  ],
  created_at: '2026-11-24T09:41:12.000Z',
  activated_at: '2026-11-24T09:41:12.000Z',
  used_at: null,
  cancelled_at: null,
  expired_at: null,
};

const preGenerated = {
  ...ticket,
  ticket_code: 'H3J8L2N7P1R6T0V5X9Z4B8D2',
  status: 'PRE_GENERATED',
  channel: 'reseller',
  reservation_id: null,
  batch_id: BATCH_ID,
  reseller: { reseller_id: RESELLER_ID, name: 'Shanghai Harbour Tours' },
  customer_type: null,
  price: null,
  activated_at: null,
};

const partner = {
  partner_id: PARTNER_ID,
  name: 'Acme Travel',
  status: 'ACTIVE',
  rate_limit_per_minute: 100,
  created_at: '2026-11-20T08:00:00.000Z',
  updated_at: '2026-11-20T08:00:00.000Z',
  api_keys: [
    { key_id: KEY_ID, prefix: 'ck_live_A3gO', created_at: '2026-11-20T08:00:00.000Z', revoked_at: null },
  ],
};

const batch = {
  batch_id: BATCH_ID,
  status: 'RUNNING',
  product_id: 106,
  quantity: 5000,
  generated: 2000,
  reseller: { reseller_id: RESELLER_ID, name: 'Shanghai Harbour Tours', status: 'ACTIVE' },
  batch_reference: 'Q4-SHANGHAI',
  distribution: { region: 'Shanghai', notes: 'Hotel concierge desks' },
  created_at: '2026-11-24T10:00:00.000Z',
  completed_at: null,
  expires_at: '2026-12-24T10:00:00.000Z',
  error: null,
};

const reseller = {
  reseller_id: RESELLER_ID,
  name: 'Shanghai Harbour Tours',
  contact_email: 'desk@harbour-tours.example',
  region: 'Shanghai',
  commission_rate: 0.1,
  status: 'ACTIVE',
  created_at: '2026-11-21T07:00:00.000Z',
  updated_at: '2026-11-21T07:00:00.000Z',
};

const page = <T>(data: T[]) => ({
  data,
  page: 1,
  page_size: 50,
  total: data.length,
  has_more: false,
  next_cursor: null,
});
/** Ticket list cursors as the server issues them (opaque to clients): page 2's, and page 3's. */
const NEXT_TICKET_CURSOR =
  'eyJvIjoidGlja2V0cyIsImsiOlsiMjAyNi0xMS0yMFQxNjowMjo0NC4wMzEyMTBaIiwiMTc5MSJdLCJwIjoxMDB9';
const TICKET_CURSOR =
  'eyJvIjoidGlja2V0cyIsImsiOlsiMjAyNi0xMS0yNFQwOTo0MToxMC4xMjM0NTZaIiwiMTg0MyJdLCJwIjo1MH0';
const counts = { issued: 120, activated: 40, used: 35, cancelled: 2, gross: USD(3816000) };

const functions = [
  { function_code: 'FERRY', name: 'Ferry boarding' },
  { function_code: 'PREMIUM_LOUNGE', name: 'Premium lounge' },
  { function_code: 'BUFFET_DINNER', name: 'Buffet dinner' },
];
const ota = { allocated: 2000, held: 3, sold: 10, available: 1987 };
const resellerPool = { allocated: 1000, held: 600, sold: 0, available: 400 };

const billingSummary = {
  from: '2026-11-01',
  to: '2026-11-30',
  currency: 'USD',
  totals: counts,
  by_reseller: [{ reseller_id: RESELLER_ID, name: 'Shanghai Harbour Tours', ...counts }],
  by_product: [{ product_id: 106, ...counts }],
};

const reconciliation = {
  from: '2026-11-01',
  to: '2026-11-30',
  as_of: '2026-11-24T12:00:00.000Z',
  rows: [
    {
      product_id: 106,
      channel: 'ota',
      ...ota,
      activated: 10,
      used: 4,
      expired: 0,
      cancelled: 1,
      tickets_pre_generated: 0,
      tickets_sold: 10,
    },
  ],
};

const WEBHOOK_ID = '8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a';
const DELIVERY_ID = 'c3b2a190-8f7e-4d6c-a5b4-3c2b1a0f9e8d';
const EVENT_ID = 'e1d2c3b4-a5f6-4789-8abc-def012345678';
const WEBHOOK_SECRET = 'whsec_c2VjcmV0IGZvciB0aGUgZXhhbXBsZSBvbmx5LCBub3QgcmVhbCE=';
const FEED_CURSOR = '1842.Qm5vT2xkQ3Vyc29yRm9yVGhlRXhhbXBsZU9ubHk';
const webhook = {
  webhook_id: WEBHOOK_ID,
  url: 'https://ota.example/hooks/cruise',
  events: ['ticket.used', 'batch.completed'],
  description: 'Production receiver',
  status: 'ENABLED',
  created_at: '2026-11-24T08:30:00.000Z',
};

// OCTO (https://docs.octo.travel): shapes as services/octo answers them; checked with @octocloud/types
// by the gateway's OpenAPI test.
const BOOKING_UUID = '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a';
const AVAILABILITY_ID = '2026-12-05T00:00:00+08:00';
const octoPrice = (amount: number) => ({
  original: amount,
  retail: amount,
  net: null,
  currency: 'USD',
  currencyPrecision: 2,
  includedTaxes: [],
});
const openingHours = [{ from: '00:00', to: '23:59' }];
const octoSupplier = {
  id: 'cruise',
  name: 'Cruise ticketing',
  endpoint: 'https://api.cruise-tickets.dev/octo',
  contact: { website: null, email: null, telephone: null, address: null },
};
const octoUnit = (id: string, type: string, from: number) => ({
  id,
  internalName: id,
  reference: id,
  type,
  restrictions: {
    minAge: 0,
    maxAge: 100,
    idRequired: false,
    minQuantity: null,
    maxQuantity: null,
    paxCount: 1,
    accompaniedBy: [],
  },
  requiredContactFields: [],
  pricingFrom: [octoPrice(from)],
});
const octoProduct = {
  id: '106',
  internalName: 'Premium Cruise Package',
  reference: '106',
  locale: 'en',
  timeZone: 'Asia/Shanghai',
  allowFreesale: false,
  instantConfirmation: true,
  instantDelivery: true,
  availabilityRequired: true,
  availabilityType: 'OPENING_HOURS',
  deliveryFormats: ['QRCODE'],
  deliveryMethods: ['TICKET'],
  redemptionMethod: 'DIGITAL',
  options: [
    {
      id: 'DEFAULT',
      default: true,
      internalName: 'Premium Cruise Package',
      reference: null,
      availabilityLocalStartTimes: ['00:00'],
      cancellationCutoff: '0 hour',
      cancellationCutoffAmount: 0,
      cancellationCutoffUnit: 'hour',
      requiredContactFields: [],
      restrictions: { minUnits: 1, maxUnits: 100 },
      units: [octoUnit('adult', 'ADULT', 28800), octoUnit('child', 'CHILD', 18800)],
      pricingFrom: [octoPrice(18800)],
    },
  ],
  defaultCurrency: 'USD',
  availableCurrencies: ['USD'],
  pricingPer: 'UNIT',
};
const octoAvailability = {
  id: AVAILABILITY_ID,
  localDateTimeStart: AVAILABILITY_ID,
  localDateTimeEnd: '2026-12-06T00:00:00+08:00',
  utcCutoffAt: '2026-12-05T16:00:00.000Z',
  allDay: true,
  available: true,
  status: 'AVAILABLE',
  vacancies: 1987,
  capacity: 2000,
  maxUnits: 100,
  openingHours,
  unitPricing: [
    { ...octoPrice(31800), unitId: 'adult' },
    { ...octoPrice(21800), unitId: 'child' },
  ],
};
const octoContact = {
  fullName: null,
  firstName: null,
  lastName: null,
  emailAddress: null,
  phoneNumber: null,
  locales: [],
  postalCode: null,
  country: null,
  notes: null,
};
const octoItem = (uuid: string, ticketCode: string | null) => ({
  uuid,
  resellerReference: null,
  supplierReference: ticketCode,
  unitId: 'adult',
  status: ticketCode ? 'CONFIRMED' : 'ON_HOLD',
  utcRedeemedAt: null,
  contact: octoContact,
  ticket: {
    redemptionMethod: 'DIGITAL',
    utcRedeemedAt: null,
    deliveryOptions: ticketCode ? [{ deliveryFormat: 'QRCODE', deliveryValue: ticketCode }] : [],
  },
  pricing: octoPrice(31800),
});
const octoBooking = {
  id: RESERVATION_ID,
  uuid: BOOKING_UUID,
  testMode: false,
  resellerReference: 'OTA-ORDER-991',
  supplierReference: RESERVATION_ID,
  status: 'ON_HOLD',
  utcCreatedAt: '2026-11-24T09:30:00.000Z',
  utcUpdatedAt: '2026-11-24T09:30:00.000Z',
  utcExpiresAt: '2026-11-24T10:30:00.000Z',
  utcRedeemedAt: null,
  utcConfirmedAt: null,
  productId: '106',
  optionId: 'DEFAULT',
  cancellable: true,
  cancellation: null,
  freesale: false,
  availabilityId: AVAILABILITY_ID,
  availability: octoAvailability,
  contact: octoContact,
  notes: null,
  deliveryMethods: ['TICKET'],
  voucher: null,
  unitItems: [
    octoItem('5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c', null),
    octoItem('6f5e4d3c-2b1a-4098-8e7d-6c5b4a3f2e1d', null),
  ],
  pricing: octoPrice(63600),
};
const octoConfirmed = {
  ...octoBooking,
  status: 'CONFIRMED',
  utcUpdatedAt: '2026-11-24T09:41:12.000Z',
  utcExpiresAt: null,
  utcConfirmedAt: '2026-11-24T09:41:12.000Z',
  contact: { ...octoContact, fullName: 'Li Wei', emailAddress: 'li.wei@example.com', locales: ['en'] },
  unitItems: [
    octoItem('5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c', TICKET_CODE),
    octoItem('6f5e4d3c-2b1a-4098-8e7d-6c5b4a3f2e1d', 'Q2W7E1R6T0Y5U9I4O8P3A2S7'),
  ],
};

export const OPERATION_DOCS: Record<string, OperationDocs> = {
  createPartner: {
    description:
      'Creates an OTA partner with its first API key. The key is in this response only: store it now ' +
      '(an Idempotency-Key replay returns the same key). The partner starts ACTIVE with no allocation.',
    request: { name: 'Acme Travel', rate_limit_per_minute: 100 },
    responses: {
      201: {
        partner_id: PARTNER_ID,
        name: 'Acme Travel',
        api_key: 'ck_live_A3gOfvFG1j7wCilELzmT3B_7kCi9_hKC7pH0Pnjg8pc',
        rate_limit_per_minute: 100,
        status: 'ACTIVE',
      },
    },
  },
  listPartners: {
    description: 'Every partner with its keys (prefixes only, never the keys), newest first.',
    parameters: { page: 1, page_size: 50 },
    responses: { 200: page([partner]) },
  },
  getPartner: {
    description: "One partner and its keys' ids and prefixes (to find the `key_id` to revoke).",
    parameters: { partner_id: PARTNER_ID },
    responses: { 200: partner },
  },
  updatePartner: {
    description:
      'Suspends or resumes a partner, or changes its rate limit (null: back to the default). A suspended ' +
      "partner's keys get 403 PARTNER_SUSPENDED at once.",
    parameters: { partner_id: PARTNER_ID },
    request: { status: 'SUSPENDED' },
    responses: { 200: { ...partner, status: 'SUSPENDED', updated_at: '2026-11-24T12:00:00.000Z' } },
  },
  createApiKey: {
    description:
      'Issues another API key for the partner (for rotation); shown once. Old keys keep working until revoked.',
    parameters: { partner_id: PARTNER_ID },
    responses: {
      201: {
        key_id: KEY_ID,
        api_key: 'ck_live_Q9wErTy3uIoP5aSdF7gHjK1lZxC2vBn4mM6qW8eR0tY',
        prefix: 'ck_live_Q9wE',
        created_at: '2026-11-24T12:00:00.000Z',
      },
    },
  },
  revokeApiKey: {
    description: 'Revokes one key; every gateway refuses it within a second.',
    parameters: { partner_id: PARTNER_ID, key_id: KEY_ID },
    responses: { 204: null },
  },
  listAudit: {
    description:
      'The audit log of every partner, webhook, operator and scanner request (who, what, outcome, request ' +
      'id, duration), newest first; filter by partner and time range.',
    parameters: { partner_id: PARTNER_ID, from: '2026-11-24', to: '2026-11-25', page: 1, page_size: 50 },
    responses: {
      200: page([
        {
          id: 18231,
          at: '2026-11-24T09:30:00.012Z',
          request_id: '4c1f9e0a-6b2d-4e8f-9a1c-3d5e7f9b1c2d',
          actor_kind: 'partner',
          partner_id: PARTNER_ID,
          method: 'POST',
          route: '/api/ota/reservations',
          path: '/api/ota/reservations',
          status: 201,
          duration_ms: 14.2,
          client_ip: '203.0.113.7',
        },
      ]),
    },
  },
  getInventory: {
    description:
      "The caller's pools (ota and reseller) for every product, with the full price matrix for the visit " +
      "date (default: today in the venue's time zone; Saturday and Sunday are weekend prices).",
    parameters: { visit_date: '2026-11-28' },
    responses: {
      200: {
        as_of: '2026-11-24T09:30:00.000Z',
        visit_date: '2026-11-28',
        day_type: 'weekend',
        products: [
          {
            product_id: 106,
            name: 'Premium Cruise Package',
            functions,
            channels: {
              ota,
              reseller: { allocated: 1000, held: 0, sold: 0, available: 1000 },
            },
            pricing: {
              currency: 'USD',
              customer_types: [
                {
                  customer_type: 'adult',
                  weekday: 28800,
                  weekend: 31800,
                  price: 31800,
                  discount_vs_adult: 0,
                },
                {
                  customer_type: 'child',
                  weekday: 18800,
                  weekend: 21800,
                  price: 21800,
                  discount_vs_adult: 10000,
                },
              ],
            },
          },
        ],
      },
    },
  },
  createReservation: {
    description:
      "Holds units in the caller's ota pool for 24 hours at the visit date's prices (1..100 units). " +
      'Not enough available: 409 INSUFFICIENT_INVENTORY and nothing is held; concurrent requests never hold ' +
      'more than is available. Send an Idempotency-Key so a retry never holds twice. The hold becomes ' +
      'CONFIRMED when the payment webhook reports the payment.',
    parameters: { 'idempotency-key': 'order-991' },
    request: {
      product_id: 106,
      visit_date: '2026-12-05',
      reseller_reference: 'OTA-ORDER-991',
      reseller_id: null,
      items: [
        { customer_type: 'adult', quantity: 2 },
        { customer_type: 'child', quantity: 1 },
      ],
    },
    responses: { 201: reservation },
  },
  listReservations: {
    description:
      "The caller's reservations, newest first, filtered by status, product, reference and creation time.",
    parameters: { status: 'ON_HOLD', page: 1, page_size: 50 },
    responses: { 200: page([reservation]) },
  },
  getReservation: {
    description: 'One reservation of the caller; once CONFIRMED it carries its tickets.',
    parameters: { reservation_id: RESERVATION_ID },
    responses: {
      200: {
        ...reservation,
        status: 'CONFIRMED',
        confirmed_at: '2026-11-24T09:41:12.000Z',
        tickets: [ticket],
      },
    },
  },
  cancelReservation: {
    description:
      'Cancels a hold and releases its units at once. Only ON_HOLD; otherwise 409 RESERVATION_NOT_ON_HOLD.',
    parameters: { reservation_id: RESERVATION_ID },
    responses: { 200: { ...reservation, status: 'CANCELLED' } },
  },
  setPartnerAllocation: {
    description:
      "Sets a partner's allocation of a product in its ota or reseller pool. Below held + sold, or beyond " +
      "the product's capacity across all pools: 409 ALLOCATION_CONFLICT.",
    parameters: { partner_id: PARTNER_ID },
    request: { product_id: 106, channel: 'ota', allocated: 2000 },
    responses: {
      200: {
        product_id: 106,
        channel: 'ota',
        partner_id: PARTNER_ID,
        allocated: 2000,
        held: 3,
        sold: 10,
        available: 1987,
      },
    },
  },
  setDirectAllocation: {
    description:
      "Sets the operator's own (direct) pool of a product, with the same rules as a partner's allocation.",
    request: { product_id: 106, allocated: 5000 },
    responses: {
      200: {
        product_id: 106,
        channel: 'direct',
        partner_id: null,
        allocated: 5000,
        held: 0,
        sold: 120,
        available: 4880,
      },
    },
  },
  notifyPayment: {
    description:
      'Sent by the payment provider, signed (see the paymentSignature security scheme). SUCCEEDED with the ' +
      "reservation's exact total confirms it and issues one ACTIVE ticket per unit; FAILED changes nothing. " +
      'The same payment_id again returns the same answer and never issues twice; the same payment_id for ' +
      'another reservation or amount is 422 IDEMPOTENCY_KEY_REUSED. An expired hold is re-held when the pool ' +
      'still has room, else 409 RESERVATION_EXPIRED (the payment is kept for a refund).',
    request: {
      payment_id: 'pay_123',
      reservation_id: RESERVATION_ID,
      status: 'SUCCEEDED',
      amount: USD(85400),
      paid_at: '2026-11-24T09:41:10.000Z',
    },
    responses: {
      200: {
        payment_id: 'pay_123',
        reservation_id: RESERVATION_ID,
        reservation_status: 'CONFIRMED',
        tickets: [ticket],
      },
    },
  },
  listTickets: {
    description:
      "The caller's tickets, newest first, with any combination of filters. Beyond 10,000 matches " +
      '`total` is a lower bound (`total_is_lower_bound: true`). To read deep, follow `next_cursor`: ' +
      '`?cursor=<next_cursor>` (with the same filters, instead of `page`) continues after the last row ' +
      'of the previous page, at the same cost at any depth; it is null on the last page.',
    parameters: {
      status: 'ACTIVE',
      created_from: '2026-11-01',
      page_size: 50,
      cursor: TICKET_CURSOR,
    },
    responses: {
      200: {
        ...page([ticket]),
        page: 2,
        total: 10_000,
        has_more: true,
        next_cursor: NEXT_TICKET_CURSOR,
        total_is_lower_bound: true,
      },
    },
  },
  getTicket: {
    description: "One of the caller's tickets; another partner's ticket is 404.",
    parameters: { ticket_code: TICKET_CODE },
    responses: { 200: ticket },
  },
  activateTicket: {
    description:
      'Sells a PRE_GENERATED batch ticket to a customer: it becomes ACTIVE at the price of the customer type, ' +
      'records the reseller → customer chain, and its unit moves from held to sold in the reseller pool. ' +
      'Not PRE_GENERATED: 409 TICKET_NOT_ACTIVE.',
    parameters: { ticket_code: preGenerated.ticket_code },
    request: {
      customer_type: 'adult',
      customer: { name: 'Li Wei', email: 'li.wei@example.com' },
      reseller_id: RESELLER_ID,
      order_reference: 'HT-20261124-17',
    },
    responses: {
      200: {
        ...preGenerated,
        status: 'ACTIVE',
        customer_type: 'adult',
        price: USD(28800),
        customer: { name: 'Li Wei', email: 'li.wei@example.com' },
        order_reference: 'HT-20261124-17',
        activated_at: '2026-11-24T11:00:00.000Z',
      },
    },
  },
  cancelTicket: {
    description:
      'Cancels a PRE_GENERATED ticket, or an ACTIVE one with nothing redeemed; its unit returns to its pool. ' +
      'Otherwise 409 TICKET_NOT_CANCELLABLE.',
    parameters: { ticket_code: TICKET_CODE },
    responses: { 200: { ...ticket, status: 'CANCELLED', cancelled_at: '2026-11-24T12:00:00.000Z' } },
  },
  bulkGenerateTickets: {
    description:
      "Holds `quantity` units in the caller's reseller pool and queues the generation of PRE_GENERATED " +
      'tickets for one of its resellers (1..100,000). Answers 202 at once with the batch to poll (`Location`, ' +
      'and `Retry-After` seconds before the first poll); not enough reseller availability is 409 before ' +
      'anything is queued. Tickets expire if not activated within the tentative period (30 days).',
    parameters: { 'idempotency-key': 'batch-q4-shanghai' },
    request: {
      product_id: 106,
      quantity: 5000,
      reseller_id: RESELLER_ID,
      batch_reference: 'Q4-SHANGHAI',
      distribution: { region: 'Shanghai', notes: 'Hotel concierge desks' },
    },
    responses: {
      202: { batch_id: BATCH_ID, status: 'QUEUED', quantity: 5000, poll_url: `/api/ota/batches/${BATCH_ID}` },
    },
  },
  listBatches: {
    description: "The caller's batches, newest first, with their progress.",
    parameters: { page: 1, page_size: 50 },
    responses: { 200: page([batch]) },
  },
  getBatch: {
    description:
      'One batch: `generated` grows while it runs; a COMPLETED batch has exactly `quantity` tickets, all ' +
      'PRE_GENERATED, even across a crash or restart. A read after `completed_at` always sees COMPLETED.',
    parameters: { batch_id: BATCH_ID },
    responses: { 200: batch },
  },
  getBatchTicketsCsv: {
    description:
      "Every ticket code of the batch as CSV, streamed (a million rows never sit in the server's memory).",
    parameters: { batch_id: BATCH_ID },
    responses: {
      200:
        'batch_seq,ticket_code,status,created_at\n' +
        '1,H3J8L2N7P1R6T0V5X9Z4B8D2,PRE_GENERATED,2026-11-24T10:00:01.120Z\n' +
        '2,M4P9S3V8Y2B7E1H6K0N5Q9T3,PRE_GENERATED,2026-11-24T10:00:01.120Z\n',
    },
  },
  createReseller: {
    description: "Adds a sub-reseller of the caller (a batch's tickets are generated for one).",
    parameters: { 'idempotency-key': 'reseller-harbour-tours' },
    request: {
      name: 'Shanghai Harbour Tours',
      contact_email: 'desk@harbour-tours.example',
      region: 'Shanghai',
      commission_rate: 0.1,
    },
    responses: { 201: reseller },
  },
  listResellers: {
    description: "The caller's resellers, newest first.",
    parameters: { status: 'ACTIVE', page: 1, page_size: 50 },
    responses: { 200: page([reseller]) },
  },
  getReseller: {
    description: "One of the caller's resellers; another partner's is 404.",
    parameters: { reseller_id: RESELLER_ID },
    responses: { 200: reseller },
  },
  updateReseller: {
    description: 'Changes a reseller; null clears an optional field.',
    parameters: { reseller_id: RESELLER_ID },
    request: { commission_rate: 0.12, region: 'Shanghai & Suzhou' },
    responses: {
      200: {
        ...reseller,
        commission_rate: 0.12,
        region: 'Shanghai & Suzhou',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    },
  },
  deleteReseller: {
    description:
      'Deletes a reseller without tickets (204); one with tickets keeps its history and becomes INACTIVE (200).',
    parameters: { reseller_id: RESELLER_ID },
    responses: {
      200: { ...reseller, status: 'INACTIVE', updated_at: '2026-11-24T12:00:00.000Z' },
      204: null,
    },
  },
  getBillingSummary: {
    description:
      'Totals for the caller and each of its resellers and products over a date range: tickets issued, ' +
      'activated, used, cancelled, and the gross amount.',
    parameters: { from: '2026-11-01', to: '2026-11-30' },
    responses: { 200: billingSummary },
  },
  getReconciliation: {
    description:
      'Per product and channel: the pool counters next to the ticket counts of the range, which agree with the ' +
      'ticket list and the pools.',
    parameters: { from: '2026-11-01', to: '2026-11-30' },
    responses: { 200: reconciliation },
  },
  createDirectOrder: {
    description:
      "The operator's own sale from the direct pool: tickets are ACTIVE at once, channel direct. Send an " +
      'Idempotency-Key so a retried order sells once.',
    parameters: { 'idempotency-key': 'box-office-20261124-0042' },
    request: { product_id: 106, visit_date: '2026-12-05', items: [{ customer_type: 'adult', quantity: 1 }] },
    responses: {
      201: {
        order_id: ORDER_ID,
        product_id: 106,
        visit_date: '2026-12-05',
        total: USD(31800),
        tickets: [{ ...ticket, channel: 'direct', reservation_id: null, order_id: ORDER_ID }],
      },
    },
  },
  listPendingReleases: {
    description:
      'Units issuance has handed back (a cancelled or expired ticket, a failed batch) that inventory has not ' +
      'acknowledged yet, oldest first. Transport failures are retried by the sweep; a release inventory ' +
      'refused stays here with its last error until an operator resolves it.',
    parameters: { page: 1, page_size: 50 },
    responses: {
      200: page([
        {
          ref: `cancel:${TICKET_CODE}`,
          partner_id: PARTNER_ID,
          product_id: 106,
          channel: 'ota',
          from: 'sold',
          quantity: 1,
          reason: 'cancel',
          attempts: 3,
          last_error: 'VALIDATION_FAILED: the pool has fewer sold units than the release',
          created_at: '2026-11-24T12:00:00.000Z',
        },
      ]),
    },
  },
  createQrToken: {
    description:
      "A signed QR token for one of the caller's ACTIVE tickets (else 409 TICKET_NOT_ACTIVE), valid 30 " +
      'minutes, with a PNG of the code. A newer token supersedes every earlier one of the ticket.',
    parameters: { ticket_code: TICKET_CODE },
    responses: {
      200: {
        ticket_code: TICKET_CODE,
        qr_token: QR_TOKEN,
        expires_at: '2026-11-24T10:11:12.000Z',
        image:
          'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==',
      },
    },
  },
  getTicketInfo: {
    description:
      "Public: what a ticket's holder sees (status, entitlements, what remains). The code is the secret; the " +
      'route is limited per client IP.',
    parameters: { ticket_code: TICKET_CODE },
    responses: {
      200: {
        ticket_code: TICKET_CODE,
        status: 'ACTIVE',
        product_id: 106,
        product_name: 'Premium Cruise Package',
        entitlements: [
          { function_code: 'FERRY', redeemed_at: '2026-11-24T09:52:00.000Z' },
          { function_code: 'PREMIUM_LOUNGE', redeemed_at: null },
          { function_code: 'BUFFET_DINNER', redeemed_at: null },
        ],
        remaining: ['PREMIUM_LOUNGE', 'BUFFET_DINNER'],
      },
    },
  },
  redeem: {
    description:
      'A scanner redeems one entitlement of a ticket from its QR token (or, on devices that allow manual ' +
      'entry, the ticket code). Two scanners on the same entitlement at once: exactly one is accepted. A ' +
      'retry with the same nonce returns the same answer, never ALREADY_REDEEMED. When the last entitlement ' +
      'is redeemed the ticket becomes USED. Rejections are problem responses that also carry `ticket_status` ' +
      'and `remaining` where the ticket is known.',
    request: { qr_token: QR_TOKEN, function_code: 'FERRY', session_code: 'SAILING-0930', nonce: 'scan-7f3a' },
    responses: {
      200: {
        result: 'ACCEPTED',
        ticket_code: TICKET_CODE,
        function_code: 'FERRY',
        ticket_status: 'ACTIVE',
        remaining: ['PREMIUM_LOUNGE', 'BUFFET_DINNER'],
        redeemed_at: '2026-11-24T09:52:00.000Z',
      },
    },
  },
  createDevice: {
    description:
      "Registers a scanner device at a venue; its key is in this response only (it is the scanner's credential).",
    parameters: { 'idempotency-key': 'pier-3-gate-a' },
    request: { venue: 'Pier 3', name: 'Gate A', manual_entry: true },
    responses: {
      201: {
        device_id: DEVICE_ID,
        device_key: 'dev_6JB2_oTto0g4jF-xwGjobaRKBxbjSqMSRHgfmf5crR8',
        venue: 'Pier 3',
        name: 'Gate A',
        manual_entry: true,
        created_at: '2026-11-24T08:00:00.000Z',
      },
    },
  },
  listDevices: {
    description:
      'Every scanner device, newest first, revoked ones too (with `revoked_at`); never their keys.',
    parameters: { page: 1, page_size: 50 },
    responses: {
      200: page([
        {
          device_id: DEVICE_ID,
          venue: 'Pier 3',
          name: 'Gate A',
          manual_entry: true,
          created_at: '2026-11-24T08:00:00.000Z',
          revoked_at: null,
        },
      ]),
    },
  },
  updateDevice: {
    description:
      'Allows or forbids manual entry (typed ticket codes) on a device; a device without it gets 403 ' +
      'MANUAL_ENTRY_NOT_ALLOWED for a scan by ticket code, from its next scan on.',
    parameters: { device_id: DEVICE_ID },
    request: { manual_entry: false },
    responses: {
      200: {
        device_id: DEVICE_ID,
        venue: 'Pier 3',
        name: 'Gate A',
        manual_entry: false,
        created_at: '2026-11-24T08:00:00.000Z',
        revoked_at: null,
      },
    },
  },
  revokeDevice: {
    description: 'Revokes a scanner device; its key stops working at once.',
    parameters: { device_id: DEVICE_ID },
    responses: { 204: null },
  },
  getCurrentDevice: {
    description:
      'The device a key belongs to, and whether it may redeem typed ticket codes: the scanner app checks ' +
      'its key with it at sign-in. Charged to the same budgets as a scan, so it is no cheaper way to guess keys.',
    responses: { 200: { device_id: DEVICE_ID, venue: 'Pier 3', name: 'Gate A', manual_entry: true } },
  },
  getCatalogue: {
    description:
      'Public: the products and the functions (entitlements) each gives access to, e.g. for a ' +
      "scanner's entitlement picker. No pools or prices (those are per partner: GET /api/ota/inventory).",
    responses: { 200: { products: [{ product_id: 106, name: 'Premium Cruise Package', functions }] } },
  },
  listAllPools: {
    description:
      "Every pool (the operator's direct pools and each partner's ota and reseller pools) with its " +
      'counters now; `partner_id` narrows it to one partner.',
    parameters: { partner_id: PARTNER_ID },
    responses: {
      200: {
        data: [
          { ...ota, product_id: 106, channel: 'ota', partner_id: PARTNER_ID },
          { ...resellerPool, product_id: 106, channel: 'reseller', partner_id: PARTNER_ID },
        ],
      },
    },
  },
  listAllBatches: {
    description:
      "Every partner's batches, newest first; `status=IN_PROGRESS` lists the QUEUED and RUNNING ones " +
      "(the console's progress view), `partner_id` one partner's.",
    parameters: { status: 'IN_PROGRESS', partner_id: PARTNER_ID, page: 1, page_size: 50 },
    responses: { 200: page([{ ...batch, partner_id: PARTNER_ID }]) },
  },
  getPartnerBillingSummary: {
    description:
      "A partner's billing summary as the partner reads it (GET /api/ota/billing/summary), read by the operator.",
    parameters: { partner_id: PARTNER_ID, from: '2026-11-01', to: '2026-11-30' },
    responses: { 200: billingSummary },
  },
  getPartnerReconciliation: {
    description:
      "A partner's reconciliation report as the partner reads it (GET /api/ota/reports/reconciliation), read " +
      'by the operator.',
    parameters: { partner_id: PARTNER_ID, from: '2026-11-01', to: '2026-11-30' },
    responses: { 200: reconciliation },
  },
  createWebhook: {
    description:
      'Subscribes a receiver URL to the caller\'s events (`["*"]` for all). The answer\'s `secret` is shown ' +
      'once: keep it to verify the signatures.',
    parameters: { 'idempotency-key': 'webhook-production' },
    request: {
      url: 'https://ota.example/hooks/cruise',
      events: ['ticket.used', 'batch.completed'],
      description: 'Production receiver',
    },
    responses: { 201: { ...webhook, secret: WEBHOOK_SECRET } },
  },
  listWebhooks: {
    description: "The caller's webhooks (never their secrets), newest first; at most 20, so one page.",
    parameters: { page_size: 50 },
    responses: { 200: page([webhook]) },
  },
  getWebhook: {
    description: "One of the caller's webhooks; another partner's is 404.",
    parameters: { webhook_id: WEBHOOK_ID },
    responses: { 200: webhook },
  },
  updateWebhook: {
    description:
      'Changes the URL, the events, the description, or the status: DISABLED stops deliveries (events ' +
      'meanwhile are not delivered later); ENABLED resumes them. A webhook disabled by a 410 is re-enabled here.',
    parameters: { webhook_id: WEBHOOK_ID },
    request: { events: ['*'], status: 'ENABLED' },
    responses: { 200: { ...webhook, events: ['*'] } },
  },
  deleteWebhook: {
    description: 'Deletes the webhook with its deliveries; pending ones are never sent.',
    parameters: { webhook_id: WEBHOOK_ID },
    responses: { 204: null },
  },
  rotateWebhookSecret: {
    description:
      'A new signing secret, shown once. For 24 h deliveries carry two signatures (new and old secret), so ' +
      'receivers can switch without losing one.',
    parameters: { webhook_id: WEBHOOK_ID },
    responses: { 200: { secret: 'whsec_Zm9yIHRoZSBleGFtcGxlIG9ubHksIG5vdCBhIHJlYWwga2V5IQ==' } },
  },
  testWebhook: {
    description:
      'Queues a `ping` event to the webhook, whatever its events, to check the receiver and its signature ' +
      "check; follow it in the webhook's deliveries.",
    parameters: { webhook_id: WEBHOOK_ID },
    responses: { 202: { delivery_id: DELIVERY_ID, event_id: EVENT_ID } },
  },
  listWebhookDeliveries: {
    description:
      "A webhook's deliveries, newest first: status, attempts, the receiver's last answer and the next " +
      'attempt. PENDING ones are still being retried; FAILED ones exhausted their retries (redeliver them).',
    parameters: { webhook_id: WEBHOOK_ID, status: 'FAILED', page: 1, page_size: 50 },
    responses: {
      200: page([
        {
          delivery_id: DELIVERY_ID,
          event_id: EVENT_ID,
          event_type: 'ticket.used',
          status: 'FAILED',
          attempts: 14,
          last_status_code: 503,
          last_error: null,
          next_attempt_at: null,
          created_at: '2026-11-24T09:52:00.210Z',
          delivered_at: null,
        },
      ]),
    },
  },
  redeliverWebhookDelivery: {
    description:
      'Sends the event of a delivery again, as a new delivery with the same event id (`webhook-id`), so a ' +
      'receiver that deduplicates still sees it once.',
    parameters: { webhook_id: WEBHOOK_ID, delivery_id: DELIVERY_ID },
    responses: { 202: { delivery_id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d', event_id: EVENT_ID } },
  },
  listEvents: {
    description:
      "The caller's events in commit order, for partners who pull instead of receiving webhooks. Start " +
      'without `after`, then pass the `next_cursor` of each page (it is never null; an empty page means ' +
      'nothing new yet). `types` is a comma-separated filter. Cursors are signed: an altered or another ' +
      "partner's cursor is 400.",
    parameters: { after: FEED_CURSOR, types: 'ticket.used,ticket.redeemed', limit: 100 },
    responses: {
      200: {
        data: [
          {
            event_id: EVENT_ID,
            type: 'ticket.used',
            created_at: '2026-11-24T09:52:00.000Z',
            partner_id: PARTNER_ID,
            revision: 4,
            data: { ticket: { ...ticket, status: 'USED', used_at: '2026-11-24T09:52:00.000Z' } },
          },
        ],
        next_cursor: '1843.kX2c9sV0pQ7mL4tR8wY1zB6nA3dF5gH0jK9eU2iO',
      },
    },
  },
  octoGetSupplier: {
    description: 'OCTO: the supplier (the cruise operator) and the endpoint to call.',
    responses: { 200: octoSupplier },
  },
  octoGetProducts: {
    description:
      'OCTO: products 106-108, each with the single option `DEFAULT` whose units are the customer types. ' +
      'With `Octo-Capabilities: octo/pricing` units carry their "from" prices.',
    parameters: { 'octo-capabilities': 'octo/pricing' },
    responses: { 200: [octoProduct] },
  },
  octoGetProduct: {
    description: 'OCTO: one product; an unknown id is 400 INVALID_PRODUCT_ID.',
    parameters: { productId: '106', 'octo-capabilities': 'octo/pricing' },
    responses: { 200: octoProduct },
  },
  octoAvailabilityCalendar: {
    description:
      "OCTO: day by day, whether the partner's ota pool has room (AVAILABLE, LIMITED at 10% or less, " +
      'SOLD_OUT, CLOSED for past days), for up to a year.',
    parameters: { 'octo-capabilities': 'octo/pricing' },
    request: {
      productId: '106',
      optionId: 'DEFAULT',
      localDateStart: '2026-12-05',
      localDateEnd: '2026-12-06',
      units: [{ id: 'adult', quantity: 2 }],
    },
    responses: {
      200: [
        {
          localDate: '2026-12-05',
          available: true,
          status: 'AVAILABLE',
          vacancies: 1987,
          capacity: 2000,
          openingHours,
          unitPricingFrom: [{ ...octoPrice(31800), unitId: 'adult' }],
        },
      ],
    },
  },
  octoAvailabilityCheck: {
    description:
      'OCTO: the bookable availabilities (one all-day slot per day in the venue time zone) by dates or by ' +
      '`availabilityIds`; the id is what a booking names.',
    parameters: { 'octo-capabilities': 'octo/pricing' },
    request: {
      productId: '106',
      optionId: 'DEFAULT',
      localDateStart: '2026-12-05',
      localDateEnd: '2026-12-05',
      units: [{ id: 'adult', quantity: 2 }],
    },
    responses: { 200: [octoAvailability] },
  },
  octoCreateBooking: {
    description:
      'OCTO: holds units (ON_HOLD) like POST /api/ota/reservations, for `expirationMinutes` (1..1440, default ' +
      '24 h). The `uuid` makes it idempotent: the same uuid and request returns the same booking.',
    parameters: { 'octo-capabilities': 'octo/pricing' },
    request: {
      uuid: BOOKING_UUID,
      productId: '106',
      optionId: 'DEFAULT',
      availabilityId: AVAILABILITY_ID,
      resellerReference: 'OTA-ORDER-991',
      expirationMinutes: 60,
      unitItems: [{ unitId: 'adult' }, { unitId: 'adult' }],
    },
    responses: { 200: octoBooking },
  },
  octoListBookings: {
    description:
      'OCTO: bookings made over OCTO, newest first (at most 500), by reseller or supplier reference, dates or product.',
    parameters: { resellerReference: 'OTA-ORDER-991', 'octo-capabilities': 'octo/pricing' },
    responses: { 200: [octoConfirmed] },
  },
  octoGetBooking: {
    description:
      'OCTO: one booking, composed now from the reservation and its tickets (REDEEMED once every live ticket is used).',
    parameters: { uuid: BOOKING_UUID, 'octo-capabilities': 'octo/pricing' },
    responses: { 200: octoConfirmed },
  },
  octoExtendBooking: {
    description:
      'OCTO: extends an ON_HOLD booking by `expirationMinutes` (default 30), at most 48 h from its creation.',
    parameters: { uuid: BOOKING_UUID, 'octo-capabilities': 'octo/pricing' },
    request: { expirationMinutes: 30 },
    responses: { 200: { ...octoBooking, utcExpiresAt: '2026-11-24T11:00:00.000Z' } },
  },
  octoConfirmBooking: {
    description:
      "OCTO: confirms the hold as a sale on the partner's account (no payment webhook) and issues its " +
      'tickets: each unit item carries its ticket code as a QRCODE delivery value. Idempotent.',
    parameters: { uuid: BOOKING_UUID, 'octo-capabilities': 'octo/pricing' },
    request: {
      resellerReference: 'OTA-ORDER-991',
      contact: { fullName: 'Li Wei', emailAddress: 'li.wei@example.com', locales: ['en'] },
    },
    responses: { 200: octoConfirmed },
  },
  octoCancelBooking: {
    description:
      'OCTO: cancels a hold, or a confirmed booking none of whose tickets has been redeemed (its tickets are ' +
      'cancelled and the units return to the pool).',
    parameters: { uuid: BOOKING_UUID, 'octo-capabilities': 'octo/pricing' },
    request: { reason: 'Customer changed plans' },
    responses: {
      200: {
        ...octoConfirmed,
        status: 'CANCELLED',
        utcUpdatedAt: '2026-11-24T12:00:00.000Z',
        cancellable: false,
        cancellation: {
          refund: 'FULL',
          reason: 'Customer changed plans',
          utcCancelledAt: '2026-11-24T12:00:00.000Z',
        },
        unitItems: octoConfirmed.unitItems.map((u) => ({
          ...u,
          status: 'CANCELLED',
          ticket: { ...u.ticket, deliveryOptions: [] },
        })),
      },
    },
  },
};

export const TAG_DOCS: Record<string, string> = {
  Inventory: "The caller's pools (allocated, held, sold, available) and the price matrix.",
  Reservations: 'Holds of units for 24 hours, confirmed by a payment, cancelled, or expired.',
  Payments: "The payment provider's signed notification that confirms a reservation and issues its tickets.",
  Tickets: "The caller's tickets: listing, activation of pre-generated tickets, cancellation.",
  'Bulk generation':
    'Asynchronous batches of pre-generated tickets for sub-resellers, polled until COMPLETED.',
  Resellers: "The partner's own sub-resellers, to whom batches are generated.",
  Reports: 'Billing and reconciliation over a date range.',
  'QR codes': 'Signed, short-lived QR tokens for tickets, and the public ticket information page.',
  Redemption: 'Scanner devices redeem ticket entitlements at the venue.',
  Operators:
    "The operator's API: partners, keys, allocations, devices, pools, batches, audit, direct sales, " +
    "partners' reports, pending releases.",
  Webhooks:
    "Partner webhooks: the caller's events pushed to its receiver, signed (Standard Webhooks), retried for " +
    'at least 24 h, with a delivery log and redelivery.',
  Events:
    'The same events as the webhooks as a pull feed, in commit order, with signed cursors (kept 30 days or more).',
  OCTO:
    "The OCTO standard (docs.octo.travel) for resellers' systems: products, availability and bookings over the " +
    "partner's ota pool, with the same keys, limits and audit; errors in OCTO's shape.",
};

/** Descriptions of fields whose name does not say enough, by component schema and property. */
export const FIELD_DOCS: Record<string, Record<string, string>> = {
  Reservation: {
    expires_at:
      'When the hold lapses (24 h after creation by default); its units are free again at that instant.',
    confirmed_at: 'When the payment confirmed the reservation; null until then.',
    quantity: 'Units held, the sum of the items.',
    reseller_reference: "The partner's own order reference.",
    tickets: 'The tickets once CONFIRMED; empty before, and in lists.',
  },
  Ticket: {
    ticket_code:
      'Opaque and unguessable (at least 80 random bits): it is the secret of the ticket info page.',
    channel: 'ota (paid reservation), reseller (batch), direct (operator sale).',
    price: 'The price paid for this unit; null for a pre-generated ticket until activation.',
    entitlements: 'The functions the ticket gives access to, each redeemed once.',
  },
  Pool: {
    available: 'allocated - held - sold.',
    held: 'Units on hold: unpaid reservations and pre-generated tickets not yet activated.',
  },
  Batch: {
    generated: 'Tickets written so far; equals quantity when COMPLETED.',
    expires_at: 'Pre-generated tickets of the batch not activated by then become EXPIRED.',
    distribution: 'Free-form notes of the partner about where the batch goes (at most 4 KB).',
  },
  BatchAccepted: { poll_url: 'Where to poll the batch (also in the Location header).' },
  TicketPage: {
    total_is_lower_bound:
      'True when more than 10,000 tickets match: `total` then counts only the first 10,000.',
  },
  QrToken: {
    qr_token: 'The signed token encoded in the QR code; only the newest token of a ticket is accepted.',
    image: 'The QR code as a PNG data URL.',
  },
  TicketInfo: { remaining: 'Function codes not yet redeemed.' },
  RedeemAccepted: { remaining: 'Function codes of the ticket not yet redeemed after this scan.' },
  RedeemRequest: {
    nonce: "The scanner's id of this scan: a retry with the same nonce gets the same answer.",
    ticket_code: 'Manual entry instead of qr_token, on devices that allow it.',
    session_code: 'The sailing or session the scan belongs to (recorded with the scan).',
  },
  CreatedPartner: { api_key: 'Shown once: store it now.' },
  CreatedDevice: { device_key: "Shown once: the scanner's credential (Authorization: Bearer)." },
  AuditEntry: {
    route: 'The route template (ticket codes are not written to the audit log).',
    actor_kind: 'Who made the request, as the gateway authenticated it.',
  },
  PendingRelease: {
    ref: 'The reference inventory de-duplicates the release on.',
  },
  Problem: {
    code: 'Stable, machine-readable error code.',
    errors: 'Field errors of a 400 VALIDATION_FAILED.',
  },
};

/** Operations of `operationIds` that have no description or no example here: fill them in above. */
export function undocumentedOperations(
  operations: {
    operationId: string;
    /** The contract's route carries a description of its own. */
    hasDescription?: boolean;
    hasBody: boolean;
    successStatuses: number[];
  }[],
): string[] {
  const missing: string[] = [];
  for (const op of operations) {
    const docs = OPERATION_DOCS[op.operationId];
    const lacks: string[] = [];
    if (!docs?.description && !op.hasDescription) lacks.push('description');
    if (op.hasBody && docs?.request === undefined) lacks.push('request example');
    for (const status of op.successStatuses) {
      if (!docs || !(status in docs.responses)) lacks.push(`${status} response example`);
    }
    if (lacks.length) missing.push(`${op.operationId} (${lacks.join(', ')})`);
  }
  return missing;
}
