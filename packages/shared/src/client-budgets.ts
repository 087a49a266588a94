// Who pays for a request, per rolling minute (api.md, "Authentication and limits"). One policy for
// the gateway and for redemption's public port, over the same Redis keys, so a client has one budget
// whichever door it uses:
// - anonymous: calls without credentials and public routes, per client IP;
// - failed: refused credentials (bad keys, tokens, device keys, webhook signatures), per client IP;
// - device: scans with a valid device key, per device; partner: per partner (its own override).
// A request is charged before any work is done for it, atomically, so a concurrent burst can never
// pass more than the budget; a request with valid credentials never touches an IP budget.
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from './config.ts';
import { AppError } from './errors.ts';
import type { RateDecision, RateLimiter } from './rate-limit.ts';

export type BudgetScope = 'anonymous' | 'failed' | 'device' | 'partner';

export interface ClientBudgets {
  /**
   * Spends one request of `scope`'s budget for `subject` (an IP, device id or partner id) and sets the
   * RateLimit-* headers; over the budget it throws 429 RATE_LIMITED with Retry-After.
   */
  charge(reply: FastifyReply, scope: BudgetScope, subject: string, limit?: number): Promise<RateDecision>;
  /**
   * The client's IP, from X-Forwarded-For as far back as the hops are trusted: the gateway when the
   * request carries its proof, then TRUSTED_PROXIES (as fastify's request.ip does for the rest).
   */
  clientIp(request: FastifyRequest): string;
}

const WHOSE: Record<BudgetScope, string> = {
  anonymous: 'The per-client limit for anonymous requests',
  failed: 'The per-client limit for refused credentials',
  device: "This device's limit",
  partner: 'Your limit',
};

export function createClientBudgets(
  limiter: RateLimiter,
  config: Pick<
    Config,
    | 'REDIS_PREFIX'
    | 'PUBLIC_RATE_LIMIT_PER_MINUTE'
    | 'FAILED_AUTH_RATE_LIMIT_PER_MINUTE'
    | 'DEVICE_RATE_LIMIT_PER_MINUTE'
    | 'RATE_LIMIT_PER_MINUTE'
    | 'TRUSTED_PROXIES'
  >,
  onRefused?: (scope: BudgetScope) => void,
): ClientBudgets {
  const limits: Record<BudgetScope, number> = {
    anonymous: config.PUBLIC_RATE_LIMIT_PER_MINUTE,
    failed: config.FAILED_AUTH_RATE_LIMIT_PER_MINUTE,
    device: config.DEVICE_RATE_LIMIT_PER_MINUTE,
    partner: config.RATE_LIMIT_PER_MINUTE,
  };
  const trusted = proxyAddr.compile(
    config.TRUSTED_PROXIES.split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  );
  return {
    clientIp(request) {
      // Hop 0 is our peer: the gateway, when it proved itself; it appended the address it was called from.
      const all = proxyAddr.all(
        request.raw,
        (addr, hop) => (hop === 0 && request.viaGateway) || trusted(addr, hop),
      );
      return all.at(-1) ?? request.ip;
    },
    async charge(reply, scope, subject, limit = limits[scope]) {
      const d = await limiter.consume(budgetKey(config.REDIS_PREFIX, scope, subject), limit);
      reply.header('RateLimit-Limit', String(d.limit));
      reply.header('RateLimit-Remaining', String(d.remaining));
      reply.header('RateLimit-Reset', String(d.resetSeconds));
      if (!d.allowed) {
        onRefused?.(scope);
        reply.header('Retry-After', String(d.resetSeconds));
        throw new AppError(
          'RATE_LIMITED',
          `${WHOSE[scope]} of ${d.limit} requests per minute is used up; retry in ${d.resetSeconds} s`,
        );
      }
      return d;
    },
  };
}

/** The Redis key of one budget (shared by every instance of every service that charges it). */
export function budgetKey(prefix: string, scope: BudgetScope, subject: string): string {
  return `${prefix}:rl:${scope}:${subject}`;
}
