// The OCTO adapter, all of it: the /octo routes (routes/octo.ts) over the commands of inventory and
// issuance, its small table of OCTO bookings (db/schema) and the translation (domain/). No jobs,
// consumers or events of its own. Wired by @cruise/shared.
import {
  defineService,
  group,
  octoAvailabilityCalendarRoute,
  octoAvailabilityCheckRoute,
  octoCancelBookingRoute,
  octoConfirmBookingRoute,
  octoCreateBookingRoute,
  octoErrorDialect,
  octoExtendBookingRoute,
  octoGetBookingRoute,
  octoGetProductRoute,
  octoGetProductsRoute,
  octoGetSupplierRoute,
  octoListBookingsRoute,
  ownBodyRoute,
  route,
} from '@cruise/shared';
import type { OctoContext } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { octoSchema } from './db/schema/octo-schema.ts';
import { createOctoMetrics } from './metrics.ts';
import {
  availabilityCalendar,
  availabilityCheck,
  bookingCancel,
  bookingConfirm,
  bookingCreate,
  bookingExtend,
  bookingGet,
  bookingList,
  getProduct,
  getProducts,
  getSupplier,
  octoScope,
} from './routes/octo.ts';

export default defineService<OctoContext>({
  name: 'octo',
  schema: octoSchema.schemaName,
  // OCTO clients read OCTO's error shape, also for a path the router refuses before any route.
  errorDialects: [octoErrorDialect],
  port: (config) => config.OCTO_PORT,
  migrations: migrationSet,
  context: (config, deps, kit) => ({
    deps: {
      db: deps.db,
      commands: kit.commands,
      timeZone: config.VENUE_TIMEZONE,
      defaultHoldSeconds: config.RESERVATION_HOLD_SECONDS,
    },
    metrics: createOctoMetrics(kit.metrics),
  }),
  routes: [
    // OCTO validates bodies with its own schemas (@octocloud/types) and answers in its own shape.
    group({
      prefix: '/octo',
      setup: octoScope,
      routes: [
        route(octoGetSupplierRoute, getSupplier),
        route(octoGetProductsRoute, getProducts),
        route(octoGetProductRoute, getProduct),
        ownBodyRoute(octoAvailabilityCalendarRoute, availabilityCalendar),
        ownBodyRoute(octoAvailabilityCheckRoute, availabilityCheck),
        ownBodyRoute(octoCreateBookingRoute, bookingCreate),
        route(octoListBookingsRoute, bookingList),
        route(octoGetBookingRoute, bookingGet),
        ownBodyRoute(octoExtendBookingRoute, bookingExtend),
        ownBodyRoute(octoConfirmBookingRoute, bookingConfirm),
        ownBodyRoute(octoCancelBookingRoute, bookingCancel),
      ],
    }),
  ],
});
