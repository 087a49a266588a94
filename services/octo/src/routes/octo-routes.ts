// The /octo routes: thin adapters that read the caller (a partner, proven by the gateway), call the
// bookings/availability translation, and send what @octocloud/types' schemas accept — every answer is
// parsed with the OCTO schema first, so a response that would break a reseller is a 500 here, not a
// surprise there. Errors in this scope use OCTO's shape, never problem+json.
import { type App, type Config, octoErrorOf, octoRoutes, toAppError } from '@cruise/shared';
import {
  zAvailability,
  zAvailabilityCalendar,
  zAvailabilityCalendarBody,
  zAvailabilityCheckBody,
  zBooking,
  zProduct,
  zSupplier,
} from '@octocloud/types';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  availabilityOf,
  calendarDayOf,
  dateOfAvailabilityId,
  daysBetween,
  requestedUnits,
} from '../domain/availability.ts';
import {
  type BookingDeps,
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
import type { OctoBookingOperation, OctoMetrics } from '../metrics.ts';

const PRICING = 'octo/pricing';

const PREFIX = '/octo';
/** The contract's path of an OCTO route, relative to the scope's `/octo` prefix. */
const routeOf = (operationId: string) => {
  const route = octoRoutes.find((r) => r.operationId === operationId);
  if (!route?.path.startsWith(PREFIX)) throw new Error(`no OCTO route ${operationId} in the contract`);
  return { ...route, path: route.path.slice(PREFIX.length) };
};

interface Parseable<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown };
}

/** Sends `value` only if OCTO's schema accepts it. */
function sendChecked<T>(reply: FastifyReply, schema: Parseable<T>, value: unknown) {
  const checked = schema.safeParse(value);
  if (!checked.success) {
    reply.request.log.error({ issues: checked.error }, 'OCTO response failed its schema');
    throw new OctoError('INTERNAL_SERVER_ERROR', 'There was an un-recoverable error, please try again');
  }
  return reply.send(checked.data);
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

function partnerOf(request: FastifyRequest): string {
  if (request.caller.kind !== 'partner') {
    throw new OctoError('UNAUTHORIZED', 'A partner API key is required: Authorization: Bearer <key>');
  }
  return request.caller.partnerId;
}

export interface OctoRouteOptions {
  config: Config;
  deps: Omit<BookingDeps, 'timeZone' | 'defaultHoldSeconds'>;
  metrics?: OctoMetrics;
}

export async function registerOctoRoutes(app: App, opts: OctoRouteOptions): Promise<void> {
  const deps: BookingDeps = {
    ...opts.deps,
    timeZone: opts.config.VENUE_TIMEZONE,
    defaultHoldSeconds: opts.config.RESERVATION_HOLD_SECONDS,
  };
  /** Runs a booking operation, counting it by outcome (`ok` or the OCTO error code it answers). */
  const counted = async <T>(operation: OctoBookingOperation, work: Promise<T>): Promise<T> => {
    try {
      const result = await work;
      opts.metrics?.bookingRequests.inc({ operation, outcome: 'ok' });
      return result;
    } catch (err) {
      opts.metrics?.bookingRequests.inc({ operation, outcome: toOctoError(err).code.toLowerCase() });
      throw err;
    }
  };
  await app.register(
    async (scope) => {
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
          .send(
            new OctoError('BAD_REQUEST', `No route ${request.method} ${request.url.split('?')[0]}`).toBody(),
          ),
      );
      // The caller first (before the body is even parsed): an unauthenticated request learns nothing else.
      scope.addHook('onRequest', async (request, reply) => {
        partnerOf(request);
        // Capabilities applied are echoed (only octo/pricing is offered).
        if (wantsPricing(request.headers['octo-capabilities'])) reply.header('Octo-Capabilities', PRICING);
      });
      const scopeOf = (request: FastifyRequest) =>
        new RequestScope(deps, partnerOf(request), wantsPricing(request.headers['octo-capabilities']));

      scope.get(routeOf('octoGetSupplier').path, async (request, reply) => {
        const proto = request.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
        const host = request.headers['x-forwarded-host'] ?? request.headers.host ?? 'localhost';
        return sendChecked(reply, zSupplier, supplierOf(`${proto}://${host}/octo`));
      });

      scope.get(routeOf('octoGetProducts').path, async (request, reply) => {
        const s = scopeOf(request);
        const products = (await s.catalogue()).map((p) => octoProduct(p, deps.timeZone, s.pricing));
        return sendChecked(reply, arrayOf(zProduct), products);
      });

      scope.get(routeOf('octoGetProduct').path, async (request, reply) => {
        const s = scopeOf(request);
        const { productId } = request.params as { productId: string };
        const product = findProduct(await s.catalogue(), productId);
        return sendChecked(reply, zProduct, octoProduct(product, deps.timeZone, s.pricing));
      });

      scope.post(routeOf('octoAvailabilityCalendar').path, async (request, reply) => {
        const s = scopeOf(request);
        const body = zAvailabilityCalendarBody.safeParse(request.body ?? {});
        if (!body.success)
          throw badRequest(`The request body is invalid: ${body.error.issues[0]?.message ?? ''}`);
        const product = findProduct(await s.catalogue(), body.data.productId);
        checkOption(body.data.optionId);
        const days = daysBetween(body.data.localDateStart, body.data.localDateEnd);
        const ctx = await s.availabilityContext(product, requestedUnits(product, body.data.units));
        return sendChecked(
          reply,
          arrayOf(zAvailabilityCalendar),
          days.map((d) => calendarDayOf(d, ctx)),
        );
      });

      scope.post(routeOf('octoAvailabilityCheck').path, async (request, reply) => {
        const s = scopeOf(request);
        const body = zAvailabilityCheckBody.safeParse(request.body ?? {});
        if (!body.success)
          throw badRequest(`The request body is invalid: ${body.error.issues[0]?.message ?? ''}`);
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
          days = availabilityIds.map((id) => dateOfAvailabilityId(id, deps.timeZone));
        } else {
          days = daysBetween(localDateStart, localDateEnd);
        }
        const ctx = await s.availabilityContext(product, requestedUnits(product, units));
        return sendChecked(
          reply,
          arrayOf(zAvailability),
          days.map((d) => availabilityOf(d, ctx)),
        );
      });

      scope.post(routeOf('octoCreateBooking').path, async (request, reply) =>
        sendChecked(reply, zBooking, await counted('create', createBooking(scopeOf(request), request.body))),
      );

      scope.get(routeOf('octoListBookings').path, async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const filters: BookingFilters = {};
        for (const key of [
          'resellerReference',
          'supplierReference',
          'localDateStart',
          'localDateEnd',
          'productId',
        ] as const) {
          const value = query[key];
          if (value === undefined) continue;
          if (typeof value !== 'string' || value.length > 255) throw badRequest(`${key} must be one string`);
          filters[key] = value;
        }
        return sendChecked(reply, arrayOf(zBooking), await listBookings(scopeOf(request), filters));
      });

      const uuidOf = (request: FastifyRequest) => (request.params as { uuid: string }).uuid;
      scope.get(routeOf('octoGetBooking').path, async (request, reply) =>
        sendChecked(reply, zBooking, await getBooking(scopeOf(request), uuidOf(request))),
      );
      scope.post(routeOf('octoExtendBooking').path, async (request, reply) =>
        sendChecked(
          reply,
          zBooking,
          await counted('extend', extendBooking(scopeOf(request), uuidOf(request), request.body)),
        ),
      );
      scope.post(routeOf('octoConfirmBooking').path, async (request, reply) =>
        sendChecked(
          reply,
          zBooking,
          await counted('confirm', confirmBooking(scopeOf(request), uuidOf(request), request.body)),
        ),
      );
      scope.post(routeOf('octoCancelBooking').path, async (request, reply) =>
        sendChecked(
          reply,
          zBooking,
          await counted('cancel', cancelBooking(scopeOf(request), uuidOf(request), request.body)),
        ),
      );
    },
    { prefix: PREFIX },
  );
}
