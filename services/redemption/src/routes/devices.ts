// Operator routes for scanner devices: POST (Idempotency-Key honoured; the manifest declares the key
// sealed in the stored answer), GET (list, never a key), PATCH (manual entry on/off), DELETE (revoke).
import {
  AppError,
  type createDeviceRoute,
  type Handler,
  type IdempotentHandler,
  type listDevicesRoute,
  refusalError,
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
  const listed = await listDevices(ctx.pool, query);
  if (!listed.ok) throw refusalError(listed);
  return listed.page;
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
