// Operator routes for scanner devices: POST (Idempotency-Key honoured; the manifest declares the key
// sealed in the stored answer), GET (list, never a key), PATCH (manual entry on/off), DELETE (revoke).
import {
  AppError,
  type createDeviceRoute,
  type Handler,
  type IdempotentHandler,
  type listDevicesRoute,
  type revokeDeviceRoute,
  type updateDeviceRoute,
} from '@cruise/shared';
import type { RedemptionContext } from '../context.ts';
import {
  createDevice as insertDevice,
  listDevices,
  revokeDevice,
  setManualEntry,
} from '../domain/devices.ts';

export const createDevice: IdempotentHandler<typeof createDeviceRoute, RedemptionContext> = async ({
  body,
  tx,
}) => insertDevice(tx, body);

export const getDevices: Handler<typeof listDevicesRoute, RedemptionContext> = async ({ query, ctx }) => {
  const { page, page_size } = query;
  const { devices, total } = await listDevices(ctx.pool, { page, pageSize: page_size });
  return { data: devices, page, page_size, total, has_more: page * page_size < total };
};

export const updateDevice: Handler<typeof updateDeviceRoute, RedemptionContext> = async ({
  params,
  body,
  ctx,
}) => {
  const device = await setManualEntry(ctx.pool, params.device_id, body.manual_entry);
  if (!device) throw new AppError('NOT_FOUND', 'No such device');
  return device;
};

export const removeDevice: Handler<typeof revokeDeviceRoute, RedemptionContext> = async ({ params, ctx }) => {
  if (!(await revokeDevice(ctx.pool, params.device_id))) throw new AppError('NOT_FOUND', 'No such device');
  return undefined;
};
