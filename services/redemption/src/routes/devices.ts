// Operator routes for scanner devices: POST (Idempotency-Key honoured), GET (list, never a key),
// PATCH (manual entry on/off) and DELETE (revoke).
import {
  type App,
  AppError,
  type CreateDeviceRequest,
  createDeviceRoute,
  idempotent,
  listDevicesRoute,
  requireAdmin,
  revokeDeviceRoute,
  routeSchema,
  secretSealer,
  type UpdateDeviceRequest,
  updateDeviceRoute,
} from '@cruise/shared';
import { createDevice, listDevices, revokeDevice, setManualEntry } from '../domain/devices.ts';
import type { RouteContext } from './context.ts';

export function registerDeviceRoutes(app: App, ctx: RouteContext): void {
  const sealer = secretSealer(ctx.config.ADMIN_TOKEN, 'redemption:idempotent-device-keys');
  app.route({
    method: createDeviceRoute.method,
    url: createDeviceRoute.path,
    schema: routeSchema(createDeviceRoute),
    handler: async (request, reply) => {
      requireAdmin(request);
      const body = request.body as CreateDeviceRequest;
      const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
      // The stored response carries the device key sealed; it is opened for this answer only.
      const result = await idempotent(
        ctx.pool,
        'redemption',
        { scope: 'operator', key, operation: 'createDevice', request: body },
        async (client) => {
          const device = await createDevice(client, body);
          return { status: 201, body: { ...device, device_key: sealer.seal(device.device_key) } };
        },
      );
      return reply
        .code(result.status)
        .send({ ...result.body, device_key: sealer.open(result.body.device_key) });
    },
  });

  app.route({
    method: listDevicesRoute.method,
    url: listDevicesRoute.path,
    schema: routeSchema(listDevicesRoute),
    handler: async (request) => {
      requireAdmin(request);
      const { page, page_size } = request.query as { page: number; page_size: number };
      const { devices, total } = await listDevices(ctx.pool, { page, pageSize: page_size });
      return { data: devices, page, page_size, total, has_more: page * page_size < total };
    },
  });

  app.route({
    method: updateDeviceRoute.method,
    url: updateDeviceRoute.path,
    schema: routeSchema(updateDeviceRoute),
    handler: async (request) => {
      requireAdmin(request);
      const { device_id } = request.params as { device_id: string };
      const body = request.body as UpdateDeviceRequest;
      const device = await setManualEntry(ctx.pool, device_id, body.manual_entry);
      if (!device) throw new AppError('NOT_FOUND', 'No such device');
      return device;
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
