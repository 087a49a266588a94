// The partner's reservation routes that need issuance's records: creating one (the named reseller must
// be the partner's own and ACTIVE: issuance owns resellers) and reading one alone (a confirmed one shows
// its tickets: issuance owns tickets). Inventory holds and keeps the reservation; issuance asks it over
// NATS (issuance → inventory is the one direction commands flow). Listing and cancelling stay inventory's.
import {
  type App,
  allRoutes,
  type CreateReservationBody,
  type RouteDef,
  refusalError,
  routeSchema,
} from '@cruise/shared';
import { ownActiveReseller, ticketsOfReservation } from '../domain/tickets.ts';
import { idempotencyKeyOf, orRefuse, partnerOf, type RouteContext } from './context.ts';

function contractRoute(operationId: string): RouteDef {
  const route = allRoutes.find((r) => r.operationId === operationId && r.service === 'issuance');
  if (!route) throw new Error(`No issuance route ${operationId} in the contract`);
  return route;
}

export async function reservationRoutes(app: App, ctx: RouteContext) {
  const create = contractRoute('createReservation');
  app.post(create.path, { schema: routeSchema(create) }, async (request, reply) => {
    const partnerId = partnerOf(request);
    const body = request.body as CreateReservationBody;
    if (body.reseller_id) {
      // Another partner's (or an unknown) reseller is refused here, so it never reaches inventory's
      // reservation nor this partner's tickets.
      orRefuse(await ownActiveReseller(ctx.pool, partnerId, body.reseller_id));
    }
    const key = idempotencyKeyOf(request);
    const held = await ctx.inventory.send('createReservation', {
      partner_id: partnerId,
      ...(key ? { idempotency_key: key } : {}),
      reservation: body,
    });
    if (!held.ok) throw refusalError(held);
    if (held.replayed) reply.header('Idempotent-Replayed', 'true');
    return reply.code(held.status).send({ ...held.reservation, tickets: [] });
  });

  const get = contractRoute('getReservation');
  app.get(get.path, { schema: routeSchema(get) }, async (request) => {
    const partnerId = partnerOf(request);
    const { reservation_id } = request.params as { reservation_id: string };
    const found = await ctx.inventory.send('partnerReservation', { partner_id: partnerId, reservation_id });
    if (!found.ok) throw refusalError(found);
    const tickets =
      found.reservation.status === 'CONFIRMED'
        ? await ticketsOfReservation(ctx.pool, partnerId, reservation_id)
        : [];
    return { ...found.reservation, tickets };
  });
}
