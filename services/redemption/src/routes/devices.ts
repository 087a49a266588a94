// Operator routes for scanner devices: POST (Idempotency-Key honoured) and DELETE (revoke).
import {
  type App,
  AppError,
  type CreateDeviceRequest,
  createDeviceRoute,
  idempotent,
  requireAdmin,
  revokeDeviceRoute,
  routeSchema,
} from '@cruise/shared';
import { createDevice, revokeDevice } from '../domain/devices.ts';
import type { RouteContext } from './context.ts';

export function registerDeviceRoutes(app: App, ctx: RouteContext): void {
  app.route({
    method: createDeviceRoute.method,
    url: createDeviceRoute.path,
    schema: routeSchema(createDeviceRoute),
    handler: async (request, reply) => {
      requireAdmin(request);
      const body = request.body as CreateDeviceRequest;
      const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
      // The replayed body holds the device key: it stays in the idempotency table for its 48 h retention.
      const result = await idempotent(
        ctx.pool,
        'redemption',
        { scope: 'operator', key, operation: 'createDevice', request: body },
        async (client) => ({ status: 201, body: await createDevice(client, body) }),
      );
      return reply.code(result.status).send(result.body);
    },
  });

  app.route({
    method: revokeDeviceRoute.method,
    url: revokeDeviceRoute.path,
    schema: routeSchema(revokeDeviceRoute),
    handler: async (request, reply) => {
      requireAdmin(request);
      const { device_id } = request.params as { device_id: string };
      if (!(await revokeDevice(ctx.pool, device_id))) throw new AppError('NOT_FOUND', 'No such device');
      return reply.code(204).send();
    },
  });
}
