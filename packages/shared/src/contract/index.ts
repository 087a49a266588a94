export * from './common.ts';
export * from './gateway.ts';
export * from './inventory.ts';
export * from './issuance/index.ts';
export * from './octo.ts';
export * from './redemption.ts';
export * from './webhooks.ts';

import { gatewayRoutes } from './gateway.ts';
import { inventoryRoutes } from './inventory.ts';
import { issuanceRoutes } from './issuance/index.ts';
import { octoRoutes } from './octo.ts';
import { redemptionRoutes } from './redemption.ts';
import { webhookRoutes } from './webhooks.ts';

/** Every public route of the system, for the gateway's OpenAPI document and routing table. */
export const allRoutes = [
  ...gatewayRoutes,
  ...inventoryRoutes,
  ...issuanceRoutes,
  ...redemptionRoutes,
  ...webhookRoutes,
  ...octoRoutes,
];
