// POST /venue/redeem and GET /venue/device: scanners authenticate with their device key, checked here on every request
// (they may call this service directly, not only through the gateway), and every request is charged
// before any work: a valid key to its device's budget, a missing key to the client IP's anonymous
// budget, a refused one to its failed-credentials budget. The gateway leaves these to us, since only
// we can tell a valid device key, and forwards the client IP.
import {
  type App,
  AppError,
  currentDeviceRoute,
  type RedeemRequest,
  redeemRoute,
  routeSchema,
} from '@cruise/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateDevice, describeDevice } from '../domain/devices.ts';
import { recordUndecidedScan, redeem, type ScanningDevice } from '../domain/redeem.ts';
import type { RouteContext } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The scanner, once its key was checked (set by the route's onRequest hook). */
    device?: ScanningDevice;
  }
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/** Device keys are ~48 characters; anything far longer is not worth a database round trip. */
const MAX_KEY_LENGTH = 256;

async function requireDevice(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
): Promise<ScanningDevice> {
  const key = bearerToken(request);
  // Made only when refusing: an error captures a stack, which a valid scan should not pay for.
  const refusal = () =>
    new AppError('UNAUTHORIZED', 'A valid device key is required (Authorization: Bearer)');
  if (!key) {
    await ctx.budgets.charge(reply, 'anonymous', ctx.budgets.clientIp(request));
    throw refusal();
  }
  const device = key.length <= MAX_KEY_LENGTH ? await authenticateDevice(ctx.pool, key) : null;
  if (!device) {
    await ctx.budgets.charge(reply, 'failed', ctx.budgets.clientIp(request));
    throw refusal();
  }
  await ctx.budgets.charge(reply, 'device', device.deviceId);
  return device;
}

export function registerVenueRoutes(app: App, ctx: RouteContext): void {
  app.route({
    method: redeemRoute.method,
    url: redeemRoute.path,
    schema: routeSchema(redeemRoute),
    // Before the body is read or validated: an unknown key costs one indexed lookup, nothing more.
    onRequest: async (request, reply) => {
      request.device = await requireDevice(request, reply, ctx);
    },
    handler: async (request, reply) => {
      const device = request.device!;
      const body = request.body as RedeemRequest;
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
        requestId: request.id,
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
      if (result.emitted) ctx.relay.kick();
      const answer = result.body as { result?: string; code?: string };
      const outcome = (result.status === 200 ? answer.result : answer.code) ?? String(result.status);
      ctx.metrics?.redemptions.inc({ result: outcome });
      ctx.metrics?.duration.observe({ result: outcome }, (performance.now() - started) / 1000);
      if (result.status !== 200) reply.type('application/problem+json');
      return reply.code(result.status).send(result.body);
    },
  });

  // The scanner app checks its key here at sign-in; charged exactly like a scan, so it is no cheaper
  // oracle for guessing keys than /venue/redeem.
  app.route({
    method: currentDeviceRoute.method,
    url: currentDeviceRoute.path,
    schema: routeSchema(currentDeviceRoute),
    onRequest: async (request, reply) => {
      request.device = await requireDevice(request, reply, ctx);
    },
    handler: async (request) => {
      const device = await describeDevice(ctx.pool, request.device!.deviceId);
      if (!device)
        throw new AppError('UNAUTHORIZED', 'A valid device key is required (Authorization: Bearer)');
      return device;
    },
  });
}
