// Who is calling and how often: authenticates every routed request per its route's `auth`, charges
// the request to its budget (client-budgets.ts in @cruise/shared) before any work is done for it, and
// records the actor for the audit trail.
//
// Budgets: requests without credentials pay the client IP's anonymous budget, refused credentials its
// failed-credentials budget, a partner its own budget. Webhooks with a valid signature pay nothing
// (the signature is checked here, with the same function issuance uses). Device routes are limited by
// the redemption service, which alone can tell a valid device key: the gateway forwards them with the
// client IP and charges nothing, so a valid scanner never pays for its neighbours.
import {
  type ActorKind,
  AppError,
  bearerToken,
  type ClientBudgets,
  type Config,
  type ErrorCode,
  type RouteAuth,
  verifyPaymentSignature,
} from '@cruise/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isAdminToken, type KeyResolver, presentedApiKey } from '../auth/credentials.ts';

export interface AccessInfo {
  actor: ActorKind;
  partnerId: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; routes without it (health, metrics, docs) are open and unlimited. */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    access: AccessInfo;
  }
}

export interface AccessControlOptions {
  config: Pick<Config, 'ADMIN_TOKEN' | 'PAYMENT_WEBHOOK_SECRET' | 'RATE_LIMIT_PER_MINUTE'>;
  keys: KeyResolver;
  budgets: ClientBudgets;
  /** Told of every credential refused here (the refusal's code), e.g. to count it. */
  onRefused?: (code: ErrorCode) => void;
}

async function accessControl(app: FastifyInstance, opts: AccessControlOptions): Promise<void> {
  const { config, keys, budgets } = opts;

  app.decorateRequest('access', null as never);

  /** request.ip is the client: fastify takes X-Forwarded-For only from TRUSTED_PROXIES. */
  const anonymous = (request: FastifyRequest, reply: FastifyReply) =>
    budgets.charge(reply, 'anonymous', request.ip);

  /** A credential was presented and refused: charged to the client before the refusal is sent. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, error: AppError): Promise<never> {
    await budgets.charge(reply, 'failed', request.ip);
    opts.onRefused?.(error.code);
    throw error;
  }

  async function authenticatePartner(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const apiKey = presentedApiKey(request);
    if (!apiKey) {
      await anonymous(request, reply);
      throw new AppError('UNAUTHORIZED', 'An API key is required: Authorization: Bearer <key> or X-API-Key');
    }
    const identity = await keys.resolve(apiKey);
    if (!identity || identity.revoked) {
      await refuse(request, reply, new AppError('UNAUTHORIZED', 'The API key is unknown or revoked'));
      return;
    }
    request.access.actor = 'partner';
    request.access.partnerId = identity.partnerId;
    if (identity.partnerStatus === 'SUSPENDED') {
      await refuse(request, reply, new AppError('PARTNER_SUSPENDED', 'This partner account is suspended'));
      return;
    }
    const limit = identity.rateLimitOverride ?? config.RATE_LIMIT_PER_MINUTE;
    await budgets.charge(reply, 'partner', identity.partnerId, limit);
    // The gateway's own routes (manifest handlers) read the proven caller like any service's.
    request.caller = { kind: 'partner', partnerId: identity.partnerId };
  }

  async function authenticateAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isAdminToken(request, config.ADMIN_TOKEN)) {
      request.access.actor = 'admin';
      request.caller = { kind: 'admin' };
      return;
    }
    const error = new AppError('UNAUTHORIZED', 'The operator token is required');
    if (!bearerToken(request)) {
      await anonymous(request, reply);
      throw error;
    }
    await refuse(request, reply, error);
  }

  app.addHook('onRequest', async (request, reply) => {
    request.access = { actor: 'anonymous', partnerId: null };
    const auth = request.routeOptions.config.auth;
    if (!auth) {
      // Health, metrics and docs are open; a path that matches nothing is anonymous traffic.
      if (request.is404) await anonymous(request, reply);
      return;
    }
    switch (auth) {
      case 'public':
        await anonymous(request, reply);
        return;
      case 'webhook':
        // Checked once the body is read (preHandler): the signature covers the raw bytes.
        request.access.actor = 'webhook';
        return;
      case 'device':
        // Redemption owns device keys and charges these requests itself (valid key: per device;
        // refused or missing key: the client IP we forward), on its own port and through us alike.
        if (bearerToken(request)) request.access.actor = 'device';
        return;
      case 'admin':
        await authenticateAdmin(request, reply);
        return;
      case 'partner-or-admin':
        if (isAdminToken(request, config.ADMIN_TOKEN)) {
          request.access.actor = 'admin';
          request.caller = { kind: 'admin' };
          return;
        }
        await authenticatePartner(request, reply);
        return;
      case 'partner':
        await authenticatePartner(request, reply);
        return;
    }
  });

  // The payment provider proves itself with a signature over the raw body; issuance checks it again
  // with the same function. A valid one pays no budget (dropping it would delay a customer's
  // tickets); a missing or wrong one is charged and refused here, before it is forwarded.
  app.addHook('preHandler', async (request, reply) => {
    // The onRequest hook named the actor from the route's auth (cheaper than reading routeOptions,
    // which fastify builds anew on every access).
    if (request.access.actor !== 'webhook') return;
    const header = request.headers['x-payment-signature'];
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const signature = typeof header === 'string' ? header : undefined;
    if (verifyPaymentSignature(config.PAYMENT_WEBHOOK_SECRET, signature, raw)) return;
    await refuse(
      request,
      reply,
      new AppError('INVALID_SIGNATURE', 'The X-Payment-Signature header is missing, wrong or too old'),
    );
  });
}

export default fp(accessControl, { name: 'access-control', fastify: '5.x' });
