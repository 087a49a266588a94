// Reservation routes: thin adapters over the reservations domain (partner identity from the gateway's
// internal headers, Idempotency-Key on create, refusals as problem+json).
import {
  type App,
  AppError,
  type CreateReservationBody,
  filterInstant,
  idempotent,
  refusalError,
  type reservationListQuery,
  type reservationParams,
  routeSchema,
  venueDate,
} from '@cruise/shared';
import type { z } from 'zod';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';
import {
  cancelReservation,
  getReservation,
  listReservations,
  type ReservationView,
  reserve,
} from '../domain/reservations.ts';
import { callingPartner } from './caller.ts';
import type { InventoryRouteOptions } from './options.ts';
import { contractRoute } from './route-catalogue.ts';

export function registerReservationRoutes(app: App, { pool, config, issuance }: InventoryRouteOptions) {
  const create = contractRoute('createReservation');
  app.post(create.path, { schema: routeSchema(create) }, async (request, reply) => {
    const partnerId = callingPartner(request);
    const body = request.body as CreateReservationBody;
    const now = new Date();
    if (body.visit_date < venueDate(now, config.VENUE_TIMEZONE)) {
      throw new AppError('VALIDATION_FAILED', 'The visit date is in the past', {
        errors: [{ path: 'visit_date', message: "must be today or later in the venue's time zone" }],
      });
    }
    if (body.reseller_id) {
      // Resellers are issuance's records: another partner's (or an unknown) reseller is refused here,
      // so it can never appear on this partner's tickets.
      const checked = await issuance.send('checkReseller', {
        partner_id: partnerId,
        reseller_id: body.reseller_id,
      });
      if (!checked.ok) throw refusalError(checked);
    }
    const key = request.headers['idempotency-key'];
    const result = await idempotent<ReservationView>(
      pool,
      INVENTORY_SCHEMA,
      {
        scope: partnerId,
        key: typeof key === 'string' ? key : undefined,
        operation: 'createReservation',
        request: body,
      },
      async (client) => {
        const outcome = await reserve(client, {
          partnerId,
          productId: body.product_id,
          visitDate: body.visit_date,
          resellerId: body.reseller_id ?? null,
          resellerReference: body.reseller_reference ?? null,
          items: body.items,
          holdSeconds: config.RESERVATION_HOLD_SECONDS,
          now,
        });
        // Thrown so the transaction (and the idempotency record) rolls back; the key stays reusable.
        if (!outcome.ok) throw refusalError(outcome);
        return { status: 201, body: outcome.reservation };
      },
    );
    if (result.replayed) reply.header('Idempotent-Replayed', 'true');
    return reply.code(result.status).send(result.body);
  });

  const list = contractRoute('listReservations');
  app.get(list.path, { schema: routeSchema(list) }, async (request) => {
    const partnerId = callingPartner(request);
    const query = request.query as z.infer<typeof reservationListQuery>;
    return listReservations(pool, {
      partnerId,
      status: query.status,
      productId: query.product_id,
      resellerReference: query.reseller_reference,
      createdFrom: query.created_from === undefined ? undefined : filterInstant(query.created_from),
      createdTo: query.created_to === undefined ? undefined : filterInstant(query.created_to),
      page: query.page,
      pageSize: query.page_size,
    });
  });

  const get = contractRoute('getReservation');
  app.get(get.path, { schema: routeSchema(get) }, async (request) => {
    const partnerId = callingPartner(request);
    const { reservation_id } = request.params as z.infer<typeof reservationParams>;
    const found = await getReservation(pool, { partnerId, reservationId: reservation_id });
    if (!found) throw new AppError('NOT_FOUND', 'No such reservation');
    if (found.status !== 'CONFIRMED') return found;
    // Issuance owns the tickets; it answers with those of this partner's reservation only.
    const issued = await issuance.send('reservationTickets', { partner_id: partnerId, reservation_id });
    if (!issued.ok) throw refusalError(issued);
    return { ...found, tickets: issued.tickets };
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
