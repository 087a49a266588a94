// POST /venue/redeem and GET /venue/device: scanners authenticate with their device key, checked here on
// every request (they may call this service directly, not only through the gateway), and every request
// is charged before any work: a valid key to its device's budget, a missing key to the client IP's
// anonymous budget, a refused one to its failed-credentials budget. The gateway leaves these to us,
// since only we can tell a valid device key, and forwards the client IP.
import {
  AppError,
  answer,
  bearerToken,
  type currentDeviceRoute,
  type Handler,
  type redeemRoute,
} from '@cruise/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RedemptionContext } from '../context.ts';
import { describeDevice } from '../domain/devices.ts';
import { DEVICE_REFUSED, recordUndecidedScan, redeem, type ScanningDevice } from '../domain/redeem.ts';

/** Device keys are ~48 characters; anything far longer is not worth a database round trip. */
const MAX_KEY_LENGTH = 256;

// Made only when refusing: an error captures a stack, which a valid scan should not pay for.
const refusal = () => new AppError('UNAUTHORIZED', DEVICE_REFUSED);

/**
 * The scanner's device key (`authenticate` of the device routes): checked before the body is read or
 * validated, so an unknown key costs one indexed lookup, nothing more; a key seen valid before costs
 * none (`DeviceKeys`: the handlers' own statements check that its device is not revoked).
 */
export async function scanningDevice(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RedemptionContext,
): Promise<ScanningDevice> {
  const key = bearerToken(request);
  if (!key) {
    await ctx.budgets.charge(reply, 'anonymous', ctx.budgets.clientIp(request));
    throw refusal();
  }
  const device = key.length <= MAX_KEY_LENGTH ? await ctx.deviceKeys.authenticate(key) : null;
  if (!device) {
    await ctx.budgets.charge(reply, 'failed', ctx.budgets.clientIp(request));
    throw refusal();
  }
  await ctx.budgets.charge(reply, 'device', device.deviceId);
  return device;
}

/**
 * A key that passed `scanningDevice` from memory but whose device has been revoked since: refused as a
 * refused key is (charged to the client's failed-credentials budget), and forgotten.
 */
async function refuseRevoked(request: FastifyRequest, reply: FastifyReply, ctx: RedemptionContext) {
  ctx.deviceKeys.forget(bearerToken(request)!);
  await ctx.budgets.charge(reply, 'failed', ctx.budgets.clientIp(request));
  return refusal();
}

export const redeemScan: Handler<typeof redeemRoute, RedemptionContext, ScanningDevice> = async ({
  body,
  caller: device,
  ctx,
  requestId,
  request,
  reply,
}) => {
  if (body.qr_token === undefined && body.ticket_code === undefined) {
    throw new AppError('VALIDATION_FAILED', 'The request is invalid in body', {
      errors: [{ path: 'qr_token', message: 'qr_token or ticket_code is required' }],
    });
  }
  const input = {
    device,
    qrToken: body.qr_token,
    ticketCode: body.ticket_code,
    functionCode: body.function_code,
    sessionCode: body.session_code,
    nonce: body.nonce,
    requestId,
  };
  let result: Awaited<ReturnType<typeof redeem>>;
  const started = performance.now();
  try {
    result = await redeem(
      { pool: ctx.pool, source: ctx.source, qrSigningKey: ctx.config.QR_SIGNING_KEY },
      input,
    );
  } catch (err) {
    if (err instanceof AppError && err.code === 'SERVICE_UNAVAILABLE') {
      await recordUndecidedScan(ctx.pool, input, err.code).catch(() => {});
    }
    throw err;
  }
  if (result.outcome === 'UNAUTHORIZED') throw await refuseRevoked(request, reply, ctx);
  if (result.emitted) ctx.relay.kick();
  const said = result.body as { result?: string; code?: string };
  const outcome = (result.status === 200 ? said.result : said.code) ?? String(result.status);
  ctx.metrics.redemptions.inc({ result: outcome });
  ctx.metrics.duration.observe({ result: outcome }, (performance.now() - started) / 1000);
  // A refusal is an answer recorded under the scan's nonce and replayed as it was.
  return answer(result.status, result.body, result.status !== 200 ? 'application/problem+json' : undefined);
};

/**
 * The scanner app checks its key here at sign-in; charged exactly like a scan, so it is no cheaper
 * oracle for guessing keys than /venue/redeem.
 */
export const currentDevice: Handler<typeof currentDeviceRoute, RedemptionContext, ScanningDevice> = async ({
  caller,
  ctx,
  request,
  reply,
}) => {
  const device = await describeDevice(ctx.pool, caller.deviceId);
  if (!device) throw await refuseRevoked(request, reply, ctx);
  return device;
};
