// Public routes owned by the gateway service (see ../shared/api.md).
import type { RouteDef } from './common.ts';

export const gatewayRoutes: RouteDef[] = [];
