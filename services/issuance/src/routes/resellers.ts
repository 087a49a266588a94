// Reseller routes: thin adapters over domain/resellers.ts.
import {
  type App,
  type CreateResellerBody,
  createResellerRoute,
  deleteResellerRoute,
  getResellerRoute,
  idempotent,
  listResellersRoute,
  routeSchema,
  type UpdateResellerBody,
  updateResellerRoute,
  withTransaction,
} from '@cruise/shared';
import {
  createReseller,
  deleteReseller,
  getReseller,
  listResellers,
  updateReseller,
} from '../domain/resellers.ts';
import { idempotencyKeyOf, orRefuse, partnerOf, type RouteContext } from './context.ts';

type ResellerParams = { reseller_id: string };

export async function resellerRoutes(app: App, ctx: RouteContext) {
  app.post(createResellerRoute.path, { schema: routeSchema(createResellerRoute) }, async (request, reply) => {
    const partnerId = partnerOf(request);
    const body = request.body as CreateResellerBody;
    const result = await idempotent(
      ctx.pool,
      'issuance',
      { scope: partnerId, key: idempotencyKeyOf(request), operation: 'create-reseller', request: body },
      async (client) => ({ status: 201, body: await createReseller(client, partnerId, body) }),
    );
    return reply.code(result.status).send(result.body);
  });

  app.get(listResellersRoute.path, { schema: routeSchema(listResellersRoute) }, async (request) =>
    listResellers(
      ctx.pool,
      partnerOf(request),
      request.query as { page: number; page_size: number; status?: 'ACTIVE' | 'INACTIVE' },
    ),
  );

  app.get(getResellerRoute.path, { schema: routeSchema(getResellerRoute) }, async (request) => {
    const { reseller_id } = request.params as ResellerParams;
    return orRefuse(await getReseller(ctx.pool, partnerOf(request), reseller_id)).reseller;
  });

  app.patch(updateResellerRoute.path, { schema: routeSchema(updateResellerRoute) }, async (request) => {
    const partnerId = partnerOf(request);
    const { reseller_id } = request.params as ResellerParams;
    const updated = await withTransaction(ctx.pool, (client) =>
      updateReseller(client, partnerId, reseller_id, request.body as UpdateResellerBody),
    );
    return orRefuse(updated).reseller;
  });

  app.delete(
    deleteResellerRoute.path,
    { schema: routeSchema(deleteResellerRoute) },
    async (request, reply) => {
      const partnerId = partnerOf(request);
      const { reseller_id } = request.params as ResellerParams;
      const outcome = orRefuse(
        await withTransaction(ctx.pool, (client) => deleteReseller(client, partnerId, reseller_id)),
      );
      return outcome.deleted ? reply.code(204).send() : reply.code(200).send(outcome.reseller);
    },
  );
}
