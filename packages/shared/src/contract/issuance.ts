// Public routes owned by the issuance service (see ../shared/api.md).
import type { RouteDef } from './common.ts';

export const issuanceRoutes: RouteDef[] = [];
