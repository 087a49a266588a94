// Reseller routes: thin adapters over domain/resellers.ts.
import {
  type createResellerRoute,
  type deleteResellerRoute,
  type getResellerRoute,
  type Handler,
  idempotent,
  type listResellersRoute,
  type updateResellerRoute,
  withTransaction,
} from '@cruise/shared';
import {
  createReseller,
  deleteReseller,
  getReseller,
  listResellers,
  updateReseller,
} from '../domain/resellers.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const createOwnReseller: Handler<typeof createResellerRoute, IssuanceContext> = async ({
  body,
  headers,
  caller,
  ctx,
}) => {
  const { partnerId } = caller;
  const result = await idempotent(
    ctx.pool,
    'issuance',
    { scope: partnerId, key: headers['idempotency-key'], operation: 'create-reseller', request: body },
    async (client) => ({ status: 201, body: await createReseller(client, partnerId, body) }),
  );
  return result.body;
};

export const listOwnResellers: Handler<typeof listResellersRoute, IssuanceContext> = async ({
  query,
  caller,
  ctx,
}) => orRefuse(await listResellers(ctx.pool, caller.partnerId, query)).page;

export const getOwnReseller: Handler<typeof getResellerRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
}) => orRefuse(await getReseller(ctx.pool, caller.partnerId, params.reseller_id)).reseller;

export const updateOwnReseller: Handler<typeof updateResellerRoute, IssuanceContext> = async ({
  params,
  body,
  caller,
  ctx,
}) => {
  const updated = await withTransaction(ctx.pool, (client) =>
    updateReseller(client, caller.partnerId, params.reseller_id, body),
  );
  return orRefuse(updated).reseller;
};

export const deleteOwnReseller: Handler<typeof deleteResellerRoute, IssuanceContext> = async ({
  params,
  caller,
  ctx,
  respond,
}) => {
  const outcome = orRefuse(
    await withTransaction(ctx.pool, (client) => deleteReseller(client, caller.partnerId, params.reseller_id)),
  );
  // Deleted outright (no history) → 204; with tickets or batches it is kept INACTIVE → 200 with it.
  return outcome.deleted ? respond(204, null) : respond(200, outcome.reseller);
};
