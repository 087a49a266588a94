// The /octo routes: thin adapters that read the caller (a partner, proven by the gateway), call the
// bookings/availability translation, and answer what @octocloud/types' schemas accept — every answer is
// parsed with the OCTO schema first, so a response that would break a reseller is a 500 here, not a
// surprise there. Errors in this scope use OCTO's shape, never problem+json (`octoScope`).
import {
  type Handler,
  type OwnBodyHandler,
  type octoAvailabilityCalendarRoute,
  type octoAvailabilityCheckRoute,
  type octoCancelBookingRoute,
  type octoConfirmBookingRoute,
  type octoCreateBookingRoute,
  octoErrorOf,
  type octoExtendBookingRoute,
  type octoGetBookingRoute,
  type octoGetProductRoute,
  type octoGetProductsRoute,
  type octoGetSupplierRoute,
  type octoListBookingsRoute,
  type PartnerCaller,
  toAppError,
} from '@cruise/shared';
import {
  zAvailability,
  zAvailabilityCalendar,
  zAvailabilityCalendarBody,
  zAvailabilityCheckBody,
  zBooking,
  zProduct,
  zSupplier,
} from '@octocloud/types';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OctoContext } from '../context.ts';
import {
  availabilityOf,
  calendarDayOf,
  dateOfAvailabilityId,
  daysBetween,
  requestedUnits,
} from '../domain/availability.ts';
import {
  type BookingFilters,
  cancelBooking,
  confirmBooking,
  createBooking,
  extendBooking,
  getBooking,
  listBookings,
  RequestScope,
} from '../domain/bookings.ts';
import { badRequest, OctoError, type OctoErrorCode } from '../domain/octo-errors.ts';
import { checkOption, findProduct, octoProduct, wantsPricing } from '../domain/products.ts';
import { supplierOf } from '../domain/supplier.ts';
import type { OctoBookingOperation } from '../metrics.ts';

const PRICING = 'octo/pricing';

interface Parseable<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** `value` if OCTO's schema accepts it; otherwise a 500 (logged), never an answer that breaks a reseller. */
function checked<T>(request: FastifyRequest, schema: Parseable<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    request.log.error({ issues: result.error }, 'OCTO response failed its schema');
    throw new OctoError('INTERNAL_SERVER_ERROR', 'There was an un-recoverable error, please try again');
  }
  return result.data;
}
const arrayOf = <T>(schema: Parseable<T>): Parseable<T[]> => ({
  safeParse(v: unknown) {
    if (!Array.isArray(v)) return { success: false, error: 'not an array' };
    const out: T[] = [];
    for (const item of v) {
      const r = schema.safeParse(item);
      if (!r.success) return r;
      out.push(r.data);
    }
    return { success: true, data: out };
  },
});

/** OCTO's shape for anything thrown in this scope (fastify's own errors included). */
export function toOctoError(error: unknown): OctoError {
  if (error instanceof OctoError) return error;
  const app = toAppError(error);
  const { status, body } = octoErrorOf(app.code, app.status, app.message);
  return new OctoError(body.error as OctoErrorCode, body.errorMessage, undefined, status);
}

/**
 * The /octo scope: OCTO's error shape, its JSON parsing, and the caller checked first (before the
 * body is even parsed), with OCTO's own UNAUTHORIZED.
 */
export function octoScope(scope: FastifyInstance): void {
  // Malformed JSON is an OCTO BAD_REQUEST; an empty body is no body (cancel and extend take none).
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (!text.trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest('The request body is not valid JSON'), undefined);
    }
  });
  scope.setErrorHandler((error, request, reply) => {
    const octo = toOctoError(error);
    if (octo.status >= 500) request.log.error({ err: error }, 'OCTO request failed');
    else request.log.info({ code: octo.code, detail: octo.message }, 'OCTO request refused');
    return reply.code(octo.status).type('application/json').send(octo.toBody());
  });
  // Only /octo/* lands here (the scope's prefix); the rest of the service keeps problem+json.
  scope.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(new OctoError('BAD_REQUEST', `No route ${request.method} ${request.url.split('?')[0]}`).toBody()),
  );
  scope.addHook('onRequest', async (request, reply) => {
    if (request.caller.kind !== 'partner') {
      throw new OctoError('UNAUTHORIZED', 'A partner API key is required: Authorization: Bearer <key>');
    }
    // Capabilities applied are echoed (only octo/pricing is offered).
    if (wantsPricing(request.headers['octo-capabilities'])) reply.header('Octo-Capabilities', PRICING);
  });
}

/** The caller's view of the adapter: its partner id and whether it asked for prices. */
function scopeOf(
  ctx: OctoContext,
  caller: PartnerCaller,
  headers: { 'octo-capabilities'?: string | undefined },
): RequestScope {
  return new RequestScope(ctx.deps, caller.partnerId, wantsPricing(headers['octo-capabilities']));
}

export const getSupplier: Handler<typeof octoGetSupplierRoute, OctoContext> = async ({ request }) => {
  const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  const host = request.headers['x-forwarded-host'] ?? request.headers.host ?? 'localhost';
  return checked(request, zSupplier, supplierOf(`${proto}://${host}/octo`));
};

export const getProducts: Handler<typeof octoGetProductsRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  request,
}) => {
  const s = scopeOf(ctx, caller, headers);
  const products = (await s.catalogue()).map((p) => octoProduct(p, ctx.deps.timeZone, s.pricing));
  return checked(request, arrayOf(zProduct), products);
};

export const getProduct: Handler<typeof octoGetProductRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  params,
  request,
}) => {
  const s = scopeOf(ctx, caller, headers);
  const product = findProduct(await s.catalogue(), params.productId);
  return checked(request, zProduct, octoProduct(product, ctx.deps.timeZone, s.pricing));
};

export const availabilityCalendar: OwnBodyHandler<
  typeof octoAvailabilityCalendarRoute,
  OctoContext
> = async ({ ctx, caller, headers, body: raw, request }) => {
  const s = scopeOf(ctx, caller, headers);
  const body = zAvailabilityCalendarBody.safeParse(raw ?? {});
  if (!body.success) throw badRequest(`The request body is invalid: ${body.error.issues[0]?.message ?? ''}`);
  const product = findProduct(await s.catalogue(), body.data.productId);
  checkOption(body.data.optionId);
  const days = daysBetween(body.data.localDateStart, body.data.localDateEnd);
  const availability = await s.availabilityContext(product, requestedUnits(product, body.data.units));
  return checked(
    request,
    arrayOf(zAvailabilityCalendar),
    days.map((d) => calendarDayOf(d, availability)),
  );
};

export const availabilityCheck: OwnBodyHandler<typeof octoAvailabilityCheckRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  body: raw,
  request,
}) => {
  const s = scopeOf(ctx, caller, headers);
  const body = zAvailabilityCheckBody.safeParse(raw ?? {});
  if (!body.success) throw badRequest(`The request body is invalid: ${body.error.issues[0]?.message ?? ''}`);
  const { productId, optionId, localDateStart, localDateEnd, availabilityIds, units } = body.data;
  const product = findProduct(await s.catalogue(), productId);
  checkOption(optionId);
  const byDates = localDateStart !== undefined || localDateEnd !== undefined;
  if (byDates === (availabilityIds !== undefined)) {
    throw badRequest('Give either localDateStart and localDateEnd, or availabilityIds');
  }
  let days: string[];
  if (availabilityIds) {
    if (availabilityIds.length === 0 || availabilityIds.length > 100) {
      throw badRequest('availabilityIds holds 1 to 100 ids');
    }
    days = availabilityIds.map((id) => dateOfAvailabilityId(id, ctx.deps.timeZone));
  } else {
    days = daysBetween(localDateStart, localDateEnd);
  }
  const availability = await s.availabilityContext(product, requestedUnits(product, units));
  return checked(
    request,
    arrayOf(zAvailability),
    days.map((d) => availabilityOf(d, availability)),
  );
};

/** Runs a booking operation, counting it by outcome (`ok` or the OCTO error code it answers). */
async function counted<T>(ctx: OctoContext, operation: OctoBookingOperation, work: Promise<T>): Promise<T> {
  try {
    const result = await work;
    ctx.metrics.bookingRequests.inc({ operation, outcome: 'ok' });
    return result;
  } catch (err) {
    ctx.metrics.bookingRequests.inc({ operation, outcome: toOctoError(err).code.toLowerCase() });
    throw err;
  }
}

export const bookingCreate: OwnBodyHandler<typeof octoCreateBookingRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  body,
  request,
}) =>
  checked(
    request,
    zBooking,
    await counted(ctx, 'create', createBooking(scopeOf(ctx, caller, headers), body)),
  );

export const bookingList: Handler<typeof octoListBookingsRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  query,
  request,
}) => {
  const filters: BookingFilters = {};
  for (const key of [
    'resellerReference',
    'supplierReference',
    'localDateStart',
    'localDateEnd',
    'productId',
  ] as const) {
    const value = query[key];
    if (value !== undefined) filters[key] = value;
  }
  return checked(request, arrayOf(zBooking), await listBookings(scopeOf(ctx, caller, headers), filters));
};

export const bookingGet: Handler<typeof octoGetBookingRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  params,
  request,
}) => checked(request, zBooking, await getBooking(scopeOf(ctx, caller, headers), params.uuid));

export const bookingExtend: OwnBodyHandler<typeof octoExtendBookingRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  params,
  body,
  request,
}) =>
  checked(
    request,
    zBooking,
    await counted(ctx, 'extend', extendBooking(scopeOf(ctx, caller, headers), params.uuid, body)),
  );

export const bookingConfirm: OwnBodyHandler<typeof octoConfirmBookingRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  params,
  body,
  request,
}) =>
  checked(
    request,
    zBooking,
    await counted(ctx, 'confirm', confirmBooking(scopeOf(ctx, caller, headers), params.uuid, body)),
  );

export const bookingCancel: OwnBodyHandler<typeof octoCancelBookingRoute, OctoContext> = async ({
  ctx,
  caller,
  headers,
  params,
  body,
  request,
}) =>
  checked(
    request,
    zBooking,
    await counted(ctx, 'cancel', cancelBooking(scopeOf(ctx, caller, headers), params.uuid, body)),
  );
