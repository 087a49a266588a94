// GET /api/admin/pending-releases (operator): releases inventory has not taken yet, with their last error.
import type { Handler, listPendingReleasesRoute } from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { listPendingReleases } from '../domain/pending-releases.ts';
import { orRefuse } from './context.ts';

export const pendingReleases: Handler<typeof listPendingReleasesRoute, IssuanceContext> = async ({
  query,
  ctx,
}) => orRefuse(await listPendingReleases(ctx.pool, query)).page;
