// Reservation routes: thin adapters over the reservations domain (refusals as problem+json). Creating one
// and reading one alone are issuance's routes (it checks the reseller and adds the tickets) over
// inventory's commands: messaging/reservation-requests.ts.
import {
  type cancelReservationRoute,
  filterInstant,
  type Handler,
  type listReservationsRoute,
  refusalError,
} from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { cancelReservation as cancelHeld, listReservations as listOwn } from '../domain/reservations.ts';

export const listReservations: Handler<typeof listReservationsRoute, InventoryContext> = async ({
  query,
  caller,
  ctx,
}) => {
  const listed = await listOwn(ctx.pool, {
    partnerId: caller.partnerId,
    status: query.status,
    productId: query.product_id,
    resellerReference: query.reseller_reference,
    createdFrom: query.created_from === undefined ? undefined : filterInstant(query.created_from),
    createdTo: query.created_to === undefined ? undefined : filterInstant(query.created_to),
    page: query.page,
    page_size: query.page_size,
    cursor: query.cursor,
  });
  if (!listed.ok) throw refusalError(listed);
  return listed.page;
};

export const cancelReservation: Handler<typeof cancelReservationRoute, InventoryContext> = async ({
  params,
  caller,
  ctx,
}) => {
  const outcome = await cancelHeld(ctx.pool, {
    partnerId: caller.partnerId,
    reservationId: params.reservation_id,
  });
  if (!outcome.ok) throw refusalError(outcome);
  ctx.metrics.reservations.inc({ outcome: 'cancelled' });
  return outcome.reservation;
};
