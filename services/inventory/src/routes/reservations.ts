// Reservation routes: thin adapters over the reservations domain (partner identity from the gateway's
// internal headers, refusals as problem+json). Creating one and reading one alone are issuance's routes
// (it checks the reseller and adds the tickets) over inventory's commands: messaging/reservation-requests.ts.
import {
  type App,
  refusalError,
  type reservationListQuery,
  type reservationParams,
  routeSchema,
} from '@cruise/shared';
import type { z } from 'zod';
import { cancelReservation, listReservations } from '../domain/reservations.ts';
import { callingPartner } from './caller.ts';
import type { InventoryRouteOptions } from './options.ts';
import { contractRoute } from './route-catalogue.ts';

/** A date filter means midnight UTC of that day; a date-time is taken as given. */
function filterInstant(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
}

export function registerReservationRoutes(app: App, { pool }: InventoryRouteOptions) {
  const list = contractRoute('listReservations');
  app.get(list.path, { schema: routeSchema(list) }, async (request) => {
    const partnerId = callingPartner(request);
    const query = request.query as z.infer<typeof reservationListQuery>;
    return listReservations(pool, {
      partnerId,
      status: query.status,
      productId: query.product_id,
      resellerReference: query.reseller_reference,
      createdFrom: filterInstant(query.created_from),
      createdTo: filterInstant(query.created_to),
      page: query.page,
      pageSize: query.page_size,
    });
  });

  const cancel = contractRoute('cancelReservation');
  app.post(cancel.path, { schema: routeSchema(cancel) }, async (request) => {
    const partnerId = callingPartner(request);
    const { reservation_id } = request.params as z.infer<typeof reservationParams>;
    const outcome = await cancelReservation(pool, { partnerId, reservationId: reservation_id });
    if (!outcome.ok) throw refusalError(outcome);
    return outcome.reservation;
  });
}
