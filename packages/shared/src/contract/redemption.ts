// Public routes owned by the redemption service (see ../shared/api.md): QR tokens, public ticket info,
// scanner redemption and scanner devices.
import { z } from 'zod';
import {
  defineRoute,
  idempotencyHeaders,
  isoDateTime,
  pageOf,
  paginationQuery,
  productId,
  type RouteDef,
  ticketStatus,
  uuid,
} from './common.ts';

/** Ticket codes are opaque; 64 characters is the most issuance ever hands out. */
export const qrTicketCodeParams = z.object({ ticket_code: z.string().min(1).max(64) });
const functionCode = z
  .string()
  .min(1)
  .max(64)
  .meta({ description: 'An entitlement of the ticket, e.g. `FERRY`' });

export const qrTokenResponse = z
  .object({
    ticket_code: z.string(),
    qr_token: z.string().meta({
      description:
        'Signed token to show as a QR code. It expires at `expires_at`; a newer token for the same ticket supersedes it.',
    }),
    expires_at: isoDateTime,
    image: z.string().meta({ description: 'The token as a PNG QR code: `data:image/png;base64,…`' }),
  })
  .meta({ id: 'QrToken' });
export type QrTokenResponse = z.infer<typeof qrTokenResponse>;

export const ticketInfoResponse = z
  .object({
    ticket_code: z.string(),
    status: ticketStatus,
    product_id: productId,
    product_name: z.string(),
    entitlements: z.array(z.object({ function_code: z.string(), redeemed_at: isoDateTime.nullable() })),
    remaining: z.array(z.string()).meta({ description: 'Function codes not redeemed yet, in order' }),
  })
  .meta({ id: 'TicketInfo' });
export type TicketInfoResponse = z.infer<typeof ticketInfoResponse>;

/** One of `qr_token` and `ticket_code` is required (checked by the service: a 400 naming `qr_token`). */
export const redeemRequest = z
  .object({
    qr_token: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({ description: 'The scanned QR code. Required unless `ticket_code` is given.' }),
    ticket_code: z.string().min(1).max(64).optional().meta({
      description:
        'Manual entry instead of `qr_token`, on devices whose `manual_entry` is true (others get 403 MANUAL_ENTRY_NOT_ALLOWED). With both, they must name the same ticket.',
    }),
    function_code: functionCode,
    session_code: z.string().min(1).max(64).optional(),
    nonce: z.string().min(1).max(128).optional().meta({
      description:
        'Per-device retry key: a repeat with the same nonce gets the original answer (same status and body) instead of being evaluated again.',
    }),
  })
  .meta({ id: 'RedeemRequest' });
export type RedeemRequest = z.infer<typeof redeemRequest>;

export const redeemAccepted = z
  .object({
    result: z.literal('ACCEPTED'),
    ticket_code: z.string(),
    function_code: z.string(),
    ticket_status: ticketStatus.extract(['ACTIVE', 'USED']),
    remaining: z.array(z.string()),
    redeemed_at: isoDateTime,
  })
  .meta({ id: 'RedeemAccepted' });
export type RedeemAccepted = z.infer<typeof redeemAccepted>;

const manualEntry = z.boolean().meta({
  description:
    'Whether staff may type a ticket code instead of scanning a QR code. A typed code skips the QR clock (expiry, supersession); devices without it get 403 MANUAL_ENTRY_NOT_ALLOWED.',
});

export const createDeviceRequest = z
  .object({
    venue: z.string().trim().min(1).max(200),
    name: z.string().trim().min(1).max(200),
    manual_entry: manualEntry.default(true),
  })
  .meta({ id: 'CreateDeviceRequest' });
export type CreateDeviceRequest = z.infer<typeof createDeviceRequest>;

export const createdDevice = z
  .object({
    device_id: uuid,
    device_key: z
      .string()
      .meta({ description: 'Shown once; the scanner sends it as `Authorization: Bearer`' }),
    venue: z.string(),
    name: z.string(),
    manual_entry: z.boolean(),
    created_at: isoDateTime,
  })
  .meta({ id: 'CreatedDevice' });
export type CreatedDevice = z.infer<typeof createdDevice>;

/** A device as the operator lists it: never its key. */
export const device = z
  .object({
    device_id: uuid,
    venue: z.string(),
    name: z.string(),
    manual_entry: z.boolean(),
    created_at: isoDateTime,
    revoked_at: isoDateTime.nullable(),
  })
  .meta({ id: 'Device' });
export type Device = z.infer<typeof device>;

export const updateDeviceRequest = z
  .object({ manual_entry: manualEntry })
  .meta({ id: 'UpdateDeviceRequest' });
export type UpdateDeviceRequest = z.infer<typeof updateDeviceRequest>;

export const createQrTokenRoute = defineRoute({
  method: 'POST',
  path: '/qr/:ticket_code',
  operationId: 'createQrToken',
  summary:
    'Issue a QR token for an ACTIVE ticket (the partner its own tickets, the operator any). Each new token supersedes every earlier one for the ticket.',
  tags: ['QR codes'],
  auth: 'partner-or-admin',
  service: 'redemption',
  params: qrTicketCodeParams,
  response: { 200: qrTokenResponse },
  errors: ['UNAUTHORIZED', 'NOT_FOUND', 'TICKET_NOT_ACTIVE', 'SERVICE_UNAVAILABLE'],
});

export const ticketInfoRoute = defineRoute({
  method: 'GET',
  path: '/qr/:ticket_code/info',
  operationId: 'getTicketInfo',
  summary:
    'Public ticket info: status and entitlements. The ticket code is the secret; calls are limited per client IP.',
  tags: ['QR codes'],
  auth: 'public',
  service: 'redemption',
  params: qrTicketCodeParams,
  response: { 200: ticketInfoResponse },
  errors: ['NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'],
});

export const redeemRoute = defineRoute({
  method: 'POST',
  path: '/venue/redeem',
  operationId: 'redeem',
  summary:
    'Redeem one entitlement of a ticket from a scanner (device key). Rejections are problem documents carrying `ticket_status` and `remaining` when the ticket is known, and `redeemed_at` for ALREADY_REDEEMED. An unknown manually entered ticket code is INVALID_QR.',
  tags: ['Redemption'],
  auth: 'device',
  service: 'redemption',
  body: redeemRequest,
  response: { 200: redeemAccepted },
  errors: [
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'INVALID_QR',
    'QR_EXPIRED',
    'QR_SUPERSEDED',
    'TICKET_NOT_ACTIVE',
    'ENTITLEMENT_NOT_FOUND',
    'ALREADY_REDEEMED',
    'IDEMPOTENCY_KEY_REUSED',
    'MANUAL_ENTRY_NOT_ALLOWED',
    'RATE_LIMITED',
    'SERVICE_UNAVAILABLE',
  ],
});

export const createDeviceRoute = defineRoute({
  method: 'POST',
  path: '/api/admin/devices',
  operationId: 'createDevice',
  summary: 'Register a scanner device; its key is returned once.',
  tags: ['Operators'],
  auth: 'admin',
  service: 'redemption',
  headers: idempotencyHeaders,
  body: createDeviceRequest,
  response: { 201: createdDevice },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'IDEMPOTENCY_KEY_REUSED'],
});

export const listDevicesRoute = defineRoute({
  method: 'GET',
  path: '/api/admin/devices',
  operationId: 'listDevices',
  summary: 'List scanner devices, newest first (revoked ones too, with `revoked_at`); never their keys.',
  tags: ['Operators'],
  auth: 'admin',
  service: 'redemption',
  querystring: paginationQuery,
  response: { 200: pageOf(device) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const updateDeviceRoute = defineRoute({
  method: 'PATCH',
  path: '/api/admin/devices/:device_id',
  operationId: 'updateDevice',
  summary:
    'Allow or forbid manual entry (typed ticket codes) on a scanner device; effective on its next scan.',
  tags: ['Operators'],
  auth: 'admin',
  service: 'redemption',
  params: z.object({ device_id: uuid }),
  body: updateDeviceRequest,
  response: { 200: device },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'],
});

export const revokeDeviceRoute = defineRoute({
  method: 'DELETE',
  path: '/api/admin/devices/:device_id',
  operationId: 'revokeDevice',
  summary: 'Revoke a scanner device: its key is refused from then on. Repeating it is harmless.',
  tags: ['Operators'],
  auth: 'admin',
  service: 'redemption',
  params: z.object({ device_id: uuid }),
  response: { 204: z.null().meta({ description: 'Revoked' }) },
  errors: ['UNAUTHORIZED', 'NOT_FOUND'],
});

export const redemptionRoutes: RouteDef[] = [
  createQrTokenRoute,
  ticketInfoRoute,
  redeemRoute,
  createDeviceRoute,
  listDevicesRoute,
  updateDeviceRoute,
  revokeDeviceRoute,
];

// ---------------------------------------------------------------- apps (scanner)

export const currentDevice = z
  .object({
    device_id: uuid,
    venue: z.string(),
    name: z.string(),
    manual_entry: z.boolean().meta({ description: 'Whether this device may redeem a typed ticket code' }),
  })
  .meta({ id: 'CurrentDevice' });
export type CurrentDevice = z.infer<typeof currentDevice>;

/** The scanner app checks a device key at sign-in and learns what the device may do. */
export const currentDeviceRoute = defineRoute({
  method: 'GET',
  path: '/venue/device',
  operationId: 'getCurrentDevice',
  summary: 'The device the presented key belongs to (the scanner app checks its key with it at sign-in)',
  tags: ['Redemption'],
  auth: 'device',
  service: 'redemption',
  response: { 200: currentDevice },
  errors: ['UNAUTHORIZED'],
});
// Appended (not spliced into the literal above) so the other routes stay as they were.
redemptionRoutes.push(currentDeviceRoute);
