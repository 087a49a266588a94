// The OCTO routes (../shared/api.md "OCTO"): the open standard's core endpoints and octo/pricing, served
// by services/octo behind the gateway's `/octo/*`. OCTO's own schemas live in the npm package
// `@octocloud/types`, written with zod's v3 API, which this document generator (zod 4's
// toJSONSchema) cannot convert: the bodies here are described and point at the specification, and
// the service validates requests and its own answers against `@octocloud/types`.
import { z } from 'zod';
import type { ErrorCode } from '../errors.ts';
import { defineRoute, type RouteDef } from './common.ts';

const SPEC = 'https://docs.octo.travel';
const octoBody = (name: string) =>
  z.object({}).passthrough().describe(`OCTO ${name}: see ${SPEC} (schemas: npm @octocloud/types, z${name})`);

export const octoError = z
  .object({
    error: z.string().describe('OCTO error code: BAD_REQUEST, INVALID_PRODUCT_ID, UNAUTHORIZED, …'),
    errorMessage: z.string(),
    productId: z.string().optional(),
    optionId: z.string().optional(),
    unitId: z.string().optional(),
    availabilityId: z.string().optional(),
    uuid: z.string().optional(),
  })
  .passthrough()
  .meta({
    id: 'OctoError',
    description:
      "Errors on /octo use OCTO's shape, not problem+json: 400 (BAD_REQUEST, INVALID_PRODUCT_ID, INVALID_OPTION_ID, " +
      'INVALID_UNIT_ID, INVALID_AVAILABILITY_ID, INVALID_BOOKING_UUID, UNPROCESSABLE_ENTITY), 401 UNAUTHORIZED, ' +
      "403 FORBIDDEN, 500 INTERNAL_SERVER_ERROR; the gateway's own refusals on /octo use the same shape " +
      '(413 and 429 as BAD_REQUEST with that status, 503 as INTERNAL_SERVER_ERROR with that status).',
  });

export const octoCapabilitiesHeaders = z.object({
  'octo-capabilities': z
    .string()
    .max(1024)
    .optional()
    .describe('Comma-separated capabilities; `octo/pricing` adds retail prices from the price matrix.'),
});
const productParams = z.object({ productId: z.string().max(64) });
const uuidParams = z.object({ uuid: z.string().max(64) });
export const octoBookingListQuery = z.object({
  resellerReference: z.string().max(255).optional(),
  supplierReference: z.string().max(64).optional(),
  localDateStart: z.string().max(10).optional(),
  localDateEnd: z.string().max(10).optional(),
  productId: z.string().max(64).optional(),
});

const octo = <const R extends Omit<RouteDef, 'tags' | 'auth' | 'service' | 'errors' | 'headers'>>(route: R) =>
  defineRoute({
    ...route,
    tags: ['OCTO'],
    auth: 'partner',
    service: 'octo',
    headers: octoCapabilitiesHeaders,
    errors: [] as ErrorCode[],
  });

export const octoGetSupplierRoute = octo({
  method: 'GET',
  path: '/octo/supplier',
  operationId: 'octoGetSupplier',
  summary: 'OCTO: the supplier (the cruise operator)',
  response: { 200: octoBody('Supplier') },
});

export const octoGetProductsRoute = octo({
  method: 'GET',
  path: '/octo/products',
  operationId: 'octoGetProducts',
  summary: 'OCTO: products 106-108, each with the option DEFAULT and its units',
  response: { 200: z.array(octoBody('Product')) },
});

export const octoGetProductRoute = octo({
  method: 'GET',
  path: '/octo/products/:productId',
  operationId: 'octoGetProduct',
  summary: 'OCTO: one product',
  params: productParams,
  response: { 200: octoBody('Product') },
});

export const octoAvailabilityCalendarRoute = octo({
  method: 'POST',
  path: '/octo/availability/calendar',
  operationId: 'octoAvailabilityCalendar',
  summary: "OCTO: availability per day (OPENING_HOURS) with the caller's ota pool as vacancies",
  body: octoBody('AvailabilityCalendarBody'),
  response: { 200: z.array(octoBody('AvailabilityCalendar')) },
});

export const octoAvailabilityCheckRoute = octo({
  method: 'POST',
  path: '/octo/availability',
  operationId: 'octoAvailabilityCheck',
  summary: 'OCTO: availability by dates or by availability ids',
  body: octoBody('AvailabilityCheckBody'),
  response: { 200: z.array(octoBody('Availability')) },
});

export const octoCreateBookingRoute = octo({
  method: 'POST',
  path: '/octo/bookings',
  operationId: 'octoCreateBooking',
  summary: "OCTO: an ON_HOLD booking (a reservation in the caller's ota pool), idempotent by uuid",
  body: octoBody('BookingReservationBody'),
  response: { 200: octoBody('Booking') },
});

export const octoListBookingsRoute = octo({
  method: 'GET',
  path: '/octo/bookings',
  operationId: 'octoListBookings',
  summary:
    'OCTO: bookings by resellerReference, supplierReference, local dates or product (one filter at least)',
  querystring: octoBookingListQuery,
  response: { 200: z.array(octoBody('Booking')) },
});

export const octoGetBookingRoute = octo({
  method: 'GET',
  path: '/octo/bookings/:uuid',
  operationId: 'octoGetBooking',
  summary: 'OCTO: one booking',
  params: uuidParams,
  response: { 200: octoBody('Booking') },
});

export const octoExtendBookingRoute = octo({
  method: 'POST',
  path: '/octo/bookings/:uuid/extend',
  operationId: 'octoExtendBooking',
  summary: "OCTO: add expirationMinutes to an ON_HOLD booking's expiry (at most 48 h from its creation)",
  params: uuidParams,
  body: octoBody('ExtendReservationBody'),
  response: { 200: octoBody('Booking') },
});

export const octoConfirmBookingRoute = octo({
  method: 'POST',
  path: '/octo/bookings/:uuid/confirm',
  operationId: 'octoConfirmBooking',
  summary: "OCTO: confirm as a sale on the partner's account; tickets issued as for a paid reservation",
  params: uuidParams,
  body: octoBody('BookingConfirmationBody'),
  response: { 200: octoBody('Booking') },
});

export const octoCancelBookingRoute = octo({
  method: 'POST',
  path: '/octo/bookings/:uuid/cancel',
  operationId: 'octoCancelBooking',
  summary: 'OCTO: cancel a held booking, or a confirmed one whose tickets are all unredeemed',
  params: uuidParams,
  body: octoBody('BookingCancellationBody'),
  response: { 200: octoBody('Booking') },
});

export const octoRoutes: RouteDef[] = [
  octoGetSupplierRoute,
  octoGetProductsRoute,
  octoGetProductRoute,
  octoAvailabilityCalendarRoute,
  octoAvailabilityCheckRoute,
  octoCreateBookingRoute,
  octoListBookingsRoute,
  octoGetBookingRoute,
  octoExtendBookingRoute,
  octoConfirmBookingRoute,
  octoCancelBookingRoute,
];

/**
 * The house's error codes in OCTO's words, for what the gateway (auth, limits, body size, upstream
 * outages) and the adapter itself refuse on /octo. OCTO has no code for 404/413/415/429: those are
 * BAD_REQUEST with their own HTTP status; outages are INTERNAL_SERVER_ERROR with 503 so clients retry.
 */
export function octoErrorOf(
  code: ErrorCode,
  status: number,
  message: string,
): { status: number; body: { error: string; errorMessage: string } } {
  const as = (error: string, s = status) => ({ status: s, body: { error, errorMessage: message } });
  switch (code) {
    case 'UNAUTHORIZED':
      return as('UNAUTHORIZED', 401);
    case 'FORBIDDEN':
    case 'PARTNER_SUSPENDED':
      return as('FORBIDDEN', 403);
    case 'SERVICE_UNAVAILABLE':
      return as('INTERNAL_SERVER_ERROR', 503);
    default:
      if (status >= 500) {
        return {
          status: 500,
          body: {
            error: 'INTERNAL_SERVER_ERROR',
            errorMessage: 'There was an un-recoverable error, please try again',
          },
        };
      }
      return as('BAD_REQUEST', status === 422 || status === 409 ? 400 : status);
  }
}

/** /octo/* in OCTO's words, also where the router itself refuses (a path segment over its length cap). */
export const octoErrorDialect = { prefix: '/octo/', render: octoErrorOf } as const;
