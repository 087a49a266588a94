// POST /qr/{ticket_code} (partner or operator) and GET /qr/{ticket_code}/info (public, limited per
// client IP since the ticket code is the only secret: by the gateway, or here when called directly).
import {
  AppError,
  type createQrTokenRoute,
  type Handler,
  refusalError,
  type ticketInfoRoute,
} from '@cruise/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RedemptionContext } from '../context.ts';
import { ticketInfo } from '../domain/projection.ts';
import { issueTicketQr, qrImageDataUrl } from '../domain/tokens.ts';

export const createQrToken: Handler<typeof createQrTokenRoute, RedemptionContext> = async ({
  params,
  caller,
  ctx,
}) => {
  const issued = await issueTicketQr(ctx.pool, ctx.source, {
    ticketCode: params.ticket_code,
    partnerId: caller.kind === 'partner' ? caller.partnerId : null,
    key: ctx.config.QR_SIGNING_KEY,
    ttlSeconds: ctx.config.QR_TTL_SECONDS,
    nowMs: Date.now(),
  });
  if (!issued.ok) throw refusalError(issued);
  return {
    ticket_code: params.ticket_code,
    qr_token: issued.token,
    expires_at: issued.expiresAt.toISOString(),
    image: await qrImageDataUrl(issued.token),
  };
};

/** Through the gateway the request has already paid its anonymous budget there. */
export async function chargeDirectCaller(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RedemptionContext,
): Promise<void> {
  if (!request.viaGateway) await ctx.budgets.charge(reply, 'anonymous', ctx.budgets.clientIp(request));
}

export const getTicketInfo: Handler<typeof ticketInfoRoute, RedemptionContext> = async ({ params, ctx }) => {
  const info = await ticketInfo(ctx.pool, ctx.source, params.ticket_code);
  if (!info) throw new AppError('NOT_FOUND', 'No such ticket');
  return info;
};
