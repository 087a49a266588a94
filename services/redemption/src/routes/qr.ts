// POST /qr/{ticket_code} (partner or operator) and GET /qr/{ticket_code}/info (public, limited per
// client IP since the ticket code is the only secret: by the gateway, or here when called directly).
import {
  type App,
  AppError,
  createQrTokenRoute,
  type QrTokenResponse,
  refusalError,
  routeSchema,
  ticketInfoRoute,
} from '@cruise/shared';
import { ticketInfo } from '../domain/projection.ts';
import { issueTicketQr, qrImageDataUrl } from '../domain/tokens.ts';
import type { RouteContext } from './context.ts';

export function registerQrRoutes(app: App, ctx: RouteContext): void {
  app.route({
    method: createQrTokenRoute.method,
    url: createQrTokenRoute.path,
    schema: routeSchema(createQrTokenRoute),
    handler: async (request): Promise<QrTokenResponse> => {
      const caller = request.caller;
      if (caller.kind !== 'partner' && caller.kind !== 'admin') {
        throw new AppError('UNAUTHORIZED', 'A partner API key or the operator token is required');
      }
      const { ticket_code } = request.params as { ticket_code: string };
      const issued = await issueTicketQr(ctx.pool, ctx.source, {
        ticketCode: ticket_code,
        partnerId: caller.kind === 'partner' ? caller.partnerId : null,
        key: ctx.config.QR_SIGNING_KEY,
        ttlSeconds: ctx.config.QR_TTL_SECONDS,
        nowMs: Date.now(),
      });
      if (!issued.ok) throw refusalError(issued);
      return {
        ticket_code,
        qr_token: issued.token,
        expires_at: issued.expiresAt.toISOString(),
        image: await qrImageDataUrl(issued.token),
      };
    },
  });

  app.route({
    method: ticketInfoRoute.method,
    url: ticketInfoRoute.path,
    schema: routeSchema(ticketInfoRoute),
    onRequest: async (request, reply) => {
      // Through the gateway the request has already paid its anonymous budget there.
      if (!request.viaGateway) await ctx.budgets.charge(reply, 'anonymous', ctx.budgets.clientIp(request));
    },
    handler: async (request) => {
      const { ticket_code } = request.params as { ticket_code: string };
      const info = await ticketInfo(ctx.pool, ctx.source, ticket_code);
      if (!info) throw new AppError('NOT_FOUND', 'No such ticket');
      return info;
    },
  });
}
