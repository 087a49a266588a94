// Public routes owned by the inventory service (see ../shared/api.md).
import type { RouteDef } from './common.ts';

export const inventoryRoutes: RouteDef[] = [];
