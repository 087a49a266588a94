// Looks up this service's entries of the public route catalogue by operation id.
import { inventoryRoutes, type RouteDef } from '@cruise/shared';

export function contractRoute(operationId: string): RouteDef {
  const route = inventoryRoutes.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`No inventory route ${operationId} in the contract`);
  return route;
}
