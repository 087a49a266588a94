// Ticket routes: thin adapters over domain/tickets.ts.
import {
  type activateTicketRoute,
  type cancelTicketRoute,
  type getTicketRoute,
  type Handler,
  idempotent,
  type listTicketsRoute,
  venueDate,
  withTransaction,
} from '@cruise/shared';
import { activateTicket, cancelTicket, getTicket, listTickets } from '../domain/tickets.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const listPartnerTickets: Handler<typeof listTicketsRoute, IssuanceContext> = async ({
  query,
  caller,
  ctx,
}) => orRefuse(await listTickets(ctx.pool, caller.partnerId, query)).page;

export const getPartnerTicket: Handler<typeof getTicketRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
}) => orRefuse(await getTicket(ctx.pool, caller.partnerId, params.ticket_code)).ticket;

export const activatePartnerTicket: Handler<typeof activateTicketRoute, IssuanceContext> = async ({
  params,
  body,
  headers,
  caller,
  ctx,
}) => {
  const { ticket_code } = params;
  const result = await idempotent(
    ctx.pool,
    'issuance',
    {
      scope: caller.partnerId,
      key: headers['idempotency-key'],
      operation: `activate:${ticket_code}`,
      request: body,
    },
    async (client) => {
      const today = venueDate(new Date(), ctx.config.VENUE_TIMEZONE);
      const activated = await activateTicket(
        client,
        ctx.inventory,
        caller.partnerId,
        ticket_code,
        body,
        today,
      );
      return { status: 200, body: orRefuse(activated).ticket };
    },
  );
  if (!result.replayed) ctx.eventsWritten();
  return result.body;
};

export const cancelPartnerTicket: Handler<typeof cancelTicketRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
}) => {
  const { ticket, release } = orRefuse(
    await withTransaction(ctx.pool, (client) => cancelTicket(client, caller.partnerId, params.ticket_code)),
  );
  ctx.eventsWritten();
  await ctx.sendReleases([release.ref]);
  return ticket;
};
