// POST /venue/redeem: scanners authenticate with their device key, checked here on every request
// (they may call this service directly, not only through the gateway).
import { type App, AppError, type RedeemRequest, redeemRoute, routeSchema } from '@cruise/shared';
import type { FastifyRequest } from 'fastify';
import { authenticateDevice } from '../domain/devices.ts';
import { recordUndecidedScan, redeem, type ScanningDevice } from '../domain/redeem.ts';
import type { RouteContext } from './context.ts';

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

async function requireDevice(request: FastifyRequest, ctx: RouteContext): Promise<ScanningDevice> {
  const key = bearerToken(request);
  const device = key ? await authenticateDevice(ctx.pool, key) : null;
  if (!device) throw new AppError('UNAUTHORIZED', 'A valid device key is required (Authorization: Bearer)');
  return device;
}

export function registerVenueRoutes(app: App, ctx: RouteContext): void {
  app.route({
    method: redeemRoute.method,
    url: redeemRoute.path,
    schema: routeSchema(redeemRoute),
    handler: async (request, reply) => {
      const device = await requireDevice(request, ctx);
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
      if (result.status !== 200) reply.type('application/problem+json');
      return reply.code(result.status).send(result.body);
    },
  });
}
