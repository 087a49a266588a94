// POST /payments/notify: the signature is checked over the raw body bytes, so this route lives in its
// own scope (a manifest group) with a content-type parser that keeps the buffer (the gateway forwards
// it unchanged).
import {
  type App,
  AppError,
  type Handler,
  type paymentNotifyRoute,
  verifyPaymentSignature,
} from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { handlePaymentNotification } from '../domain/payments.ts';
import { orRefuse } from './context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

const NOT_JSON = Symbol('not-json');

/** The group's scope: raw bytes kept for the signature, which is checked before the body is validated. */
export function paymentScope(scope: App, ctx: IssuanceContext): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      // Decided after the signature check: an unsigned request must learn nothing but 401.
      done(null, NOT_JSON);
    }
  });
  scope.addHook('preValidation', async (request) => {
    const header = request.headers['x-payment-signature'];
    const ok = verifyPaymentSignature(
      ctx.config.PAYMENT_WEBHOOK_SECRET,
      typeof header === 'string' ? header : undefined,
      request.rawBody ?? Buffer.alloc(0),
    );
    if (!ok) {
      ctx.metrics.payments.inc({ outcome: 'invalid_signature' });
      throw new AppError('INVALID_SIGNATURE', 'The X-Payment-Signature header is missing, wrong or too old');
    }
    if (request.body === NOT_JSON) throw new AppError('VALIDATION_FAILED', 'The body is not valid JSON');
  });
}

export const notifyPayment: Handler<typeof paymentNotifyRoute, IssuanceContext> = async ({ body, ctx }) => {
  const outcome = await handlePaymentNotification(ctx.pool, ctx.inventory, body);
  ctx.eventsWritten();
  const { metrics } = ctx;
  if (!outcome.ok) metrics.payments.inc({ outcome: outcome.code.toLowerCase() });
  else if (outcome.replayed) metrics.payments.inc({ outcome: 'replayed' });
  else if (outcome.result.reservation_status === 'CONFIRMED') {
    metrics.payments.inc({ outcome: 'confirmed' });
    metrics.ticketsIssued.inc({ channel: 'ota' }, outcome.result.tickets.length);
  } else metrics.payments.inc({ outcome: 'failed' });
  return orRefuse(outcome).result;
};
