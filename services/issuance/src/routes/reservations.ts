// The partner's reservation routes that need issuance's records: creating one (the named reseller must
// be the partner's own and ACTIVE: issuance owns resellers) and reading one alone (a confirmed one shows
// its tickets: issuance owns tickets). Inventory holds and keeps the reservation; issuance asks it over
// NATS (issuance → inventory is the one direction commands flow). Listing and cancelling stay inventory's.
import {
  type createReservationRoute,
  type getReservationRoute,
  type Handler,
  refusalError,
} from '@cruise/shared';
import { ownActiveReseller, ticketsOfReservation } from '../domain/tickets.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const createReservation: Handler<typeof createReservationRoute, IssuanceContext> = async ({
  body,
  headers,
  caller,
  ctx,
  reply,
}) => {
  const { partnerId } = caller;
  if (body.reseller_id) {
    // Another partner's (or an unknown) reseller is refused here, so it never reaches inventory's
    // reservation nor this partner's tickets.
    orRefuse(await ownActiveReseller(ctx.pool, partnerId, body.reseller_id));
  }
  const key = headers['idempotency-key'];
  const held = await ctx.inventory.send('createReservation', {
    partner_id: partnerId,
    ...(key ? { idempotency_key: key } : {}),
    reservation: body,
  });
  if (!held.ok) throw refusalError(held);
  if (held.replayed) reply.header('Idempotent-Replayed', 'true');
  return { ...held.reservation, tickets: [] };
};

export const getReservation: Handler<typeof getReservationRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
}) => {
  const { reservation_id } = params;
  const found = await ctx.inventory.send('partnerReservation', {
    partner_id: caller.partnerId,
    reservation_id,
  });
  if (!found.ok) throw refusalError(found);
  const tickets =
    found.reservation.status === 'CONFIRMED'
      ? await ticketsOfReservation(ctx.pool, caller.partnerId, reservation_id)
      : [];
  return { ...found.reservation, tickets };
};
