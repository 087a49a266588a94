// Ticket routes: thin adapters over domain/tickets.ts.
import {
  type ActivateTicketBody,
  type App,
  activateTicketRoute,
  cancelTicketRoute,
  getTicketRoute,
  idempotent,
  listTicketsRoute,
  routeSchema,
  type TicketListQuery,
  venueDate,
  withTransaction,
} from '@cruise/shared';
import { activateTicket, cancelTicket, getTicket, listTickets } from '../domain/tickets.ts';
import { idempotencyKeyOf, orRefuse, partnerOf, type RouteContext } from './context.ts';

type CodeParams = { ticket_code: string };

export async function ticketRoutes(app: App, ctx: RouteContext) {
  app.get(listTicketsRoute.path, { schema: routeSchema(listTicketsRoute) }, async (request) =>
    listTickets(ctx.pool, partnerOf(request), request.query as TicketListQuery),
  );

  app.get(getTicketRoute.path, { schema: routeSchema(getTicketRoute) }, async (request) => {
    const { ticket_code } = request.params as CodeParams;
    return orRefuse(await getTicket(ctx.pool, partnerOf(request), ticket_code)).ticket;
  });

  app.post(activateTicketRoute.path, { schema: routeSchema(activateTicketRoute) }, async (request, reply) => {
    const partnerId = partnerOf(request);
    const { ticket_code } = request.params as CodeParams;
    const body = request.body as ActivateTicketBody;
    const result = await idempotent(
      ctx.pool,
      'issuance',
      {
        scope: partnerId,
        key: idempotencyKeyOf(request),
        operation: `activate:${ticket_code}`,
        request: body,
      },
      async (client) => {
        const today = venueDate(new Date(), ctx.config.VENUE_TIMEZONE);
        const activated = await activateTicket(client, ctx.inventory, partnerId, ticket_code, body, today);
        return { status: 200, body: orRefuse(activated).ticket };
      },
    );
    if (!result.replayed) ctx.eventsWritten();
    return reply.code(result.status).send(result.body);
  });

  app.post(cancelTicketRoute.path, { schema: routeSchema(cancelTicketRoute) }, async (request) => {
    const partnerId = partnerOf(request);
    const { ticket_code } = request.params as CodeParams;
    const { ticket, release } = orRefuse(
      await withTransaction(ctx.pool, (client) => cancelTicket(client, partnerId, ticket_code)),
    );
    ctx.eventsWritten();
    await ctx.sendReleases([release.ref]);
    return ticket;
  });
}
