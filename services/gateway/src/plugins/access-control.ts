// Who is calling and how often: authenticates every routed request per its route's `auth`, applies
// the per-partner and per-IP rolling-minute limits, and records the actor for the audit trail.
import { type ActorKind, AppError, type Config, type RouteAuth } from '@cruise/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken, isAdminToken, type KeyResolver, presentedApiKey } from '../auth/credentials.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { RateDecision, RateLimiter } from '../rate-limit/rate-limiter.ts';

export interface AccessInfo {
  actor: ActorKind;
  partnerId: string | null;
  /**
   * Credentials the gateway cannot check itself (device keys, webhook signatures): a refusal by the
   * owning service (401) is charged to the client's IP budget afterwards.
   */
  chargeIpIfRefused: boolean;
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
  config: Pick<
    Config,
    'ADMIN_TOKEN' | 'REDIS_PREFIX' | 'RATE_LIMIT_PER_MINUTE' | 'PUBLIC_RATE_LIMIT_PER_MINUTE'
  >;
  keys: KeyResolver;
  limiter: RateLimiter;
  metrics?: Pick<GatewayMetrics, 'rateLimited'>;
}

function setLimitHeaders(reply: FastifyReply, d: RateDecision): void {
  reply.header('RateLimit-Limit', String(d.limit));
  reply.header('RateLimit-Remaining', String(d.remaining));
  reply.header('RateLimit-Reset', String(d.resetSeconds));
}

function rateLimited(reply: FastifyReply, d: RateDecision, whose: string): AppError {
  reply.header('Retry-After', String(d.resetSeconds));
  return new AppError(
    'RATE_LIMITED',
    `${whose} limit of ${d.limit} requests per minute is used up; retry in ${d.resetSeconds} s`,
  );
}

async function accessControl(app: FastifyInstance, opts: AccessControlOptions): Promise<void> {
  const { config, keys, limiter, metrics } = opts;
  const prefix = `${config.REDIS_PREFIX}:rl`;

  app.decorateRequest('access', null as never);
  const ipKey = (request: FastifyRequest) => `${prefix}:ip:${request.ip}`;

  /** Unauthenticated traffic, failed authentication and public routes share a per-IP budget. */
  async function limitByIp(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const d = await limiter.consume(ipKey(request), config.PUBLIC_RATE_LIMIT_PER_MINUTE);
    setLimitHeaders(reply, d);
    if (!d.allowed) {
      metrics?.rateLimited.inc({ scope: 'ip' });
      throw rateLimited(reply, d, 'The per-client');
    }
  }

  /** Refuses a client whose IP budget is already spent, without spending more of it. */
  async function requireIpBudget(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const d = await limiter.consume(ipKey(request), config.PUBLIC_RATE_LIMIT_PER_MINUTE, 0);
    if (!d.allowed) {
      setLimitHeaders(reply, d);
      metrics?.rateLimited.inc({ scope: 'ip' });
      throw rateLimited(reply, d, 'The per-client');
    }
    request.access.chargeIpIfRefused = true;
  }

  /** A refused credential still counts against the client's IP budget (slows key guessing). */
  async function refuse(request: FastifyRequest, reply: FastifyReply, error: AppError): Promise<never> {
    await limitByIp(request, reply);
    throw error;
  }

  async function authenticatePartner(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const apiKey = presentedApiKey(request);
    if (!apiKey) {
      await refuse(
        request,
        reply,
        new AppError('UNAUTHORIZED', 'An API key is required: Authorization: Bearer <key> or X-API-Key'),
      );
      return;
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
    const d = await limiter.consume(`${prefix}:partner:${identity.partnerId}`, limit);
    setLimitHeaders(reply, d);
    if (!d.allowed) {
      metrics?.rateLimited.inc({ scope: 'partner' });
      throw rateLimited(reply, d, 'Your');
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    request.access = { actor: 'anonymous', partnerId: null, chargeIpIfRefused: false };
    const auth = request.routeOptions.config.auth;
    if (!auth) {
      // Health, metrics and docs are open; a path that matches nothing is anonymous traffic.
      if (request.is404) await limitByIp(request, reply);
      return;
    }
    switch (auth) {
      case 'public':
        await limitByIp(request, reply);
        return;
      case 'webhook':
        // The payment provider proves itself with a signature the issuance service verifies; its
        // notifications are not throttled, as dropping one would delay a customer's tickets. Only
        // refused ones (bad signatures) count against the sender's IP budget.
        request.access.actor = 'webhook';
        await requireIpBudget(request, reply);
        return;
      case 'device':
        // The redemption service owns device keys and checks them; without any key it is anonymous.
        if (bearerToken(request)) {
          request.access.actor = 'device';
          await requireIpBudget(request, reply);
        } else {
          await limitByIp(request, reply);
        }
        return;
      case 'admin':
        if (isAdminToken(request, config.ADMIN_TOKEN)) {
          request.access.actor = 'admin';
          return;
        }
        await refuse(request, reply, new AppError('UNAUTHORIZED', 'The operator token is required'));
        return;
      case 'partner-or-admin':
        if (isAdminToken(request, config.ADMIN_TOKEN)) {
          request.access.actor = 'admin';
          return;
        }
        await authenticatePartner(request, reply);
        return;
      case 'partner':
        await authenticatePartner(request, reply);
        return;
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.access?.chargeIpIfRefused && reply.statusCode === 401) {
      await limiter.consume(ipKey(request), config.PUBLIC_RATE_LIMIT_PER_MINUTE).catch(() => {});
    }
  });
}

export default fp(accessControl, { name: 'access-control', fastify: '5.x' });
