// Public routes owned by the redemption service (see ../shared/api.md).
import type { RouteDef } from './common.ts';

export const redemptionRoutes: RouteDef[] = [];
