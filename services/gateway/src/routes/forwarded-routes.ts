// One forwarding route per public route another service owns (the contract's `allRoutes`): same
// method and path, authenticated by the access-control hook, body kept as raw bytes, and relayed to
// the owning service.
import { AppError, isUuid, octoErrorOf, type Pool, type RouteDef, toAppError } from '@cruise/shared';
import type { FastifyInstance } from 'fastify';
import { partnerExists } from '../domain/partners.ts';
import type { ForwardedCaller, UpstreamService, Upstreams } from '../forwarding/upstreams.ts';

export interface ForwardedRoutesOptions {
  routes: RouteDef[];
  upstreams: Upstreams;
  pool: Pool;
}

export async function forwardedRoutes(app: FastifyInstance, opts: ForwardedRoutesOptions): Promise<void> {
  // In this scope only: every body, whatever its type, stays the exact bytes the client sent
  // (fastify still enforces the body limit → 413).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const octo = opts.routes.filter((r) => r.service === 'octo');
  const rest = opts.routes.filter((r) => r.service !== 'octo');
  registerForwarding(app, rest, opts);
  if (octo.length > 0) {
    // OCTO clients read OCTO's error shape, also for what the gateway itself refuses on /octo (keys,
    // limits, body size, outages): the same refusals, rendered by the contract's octoErrorOf.
    await app.register(
      async (scope) => {
        scope.setErrorHandler((error, request, reply) => {
          const appError = toAppError(error);
          if (appError.status >= 500) request.log.error({ err: error }, 'OCTO request failed at the gateway');
          const { status, body } = octoErrorOf(appError.code, appError.status, appError.message);
          return reply.code(status).type('application/json').send(body);
        });
        scope.setNotFoundHandler((request, reply) => {
          const { status, body } = octoErrorOf(
            'NOT_FOUND',
            404,
            `No route ${request.method} ${request.url.split('?')[0]}`,
          );
          return reply.code(status).type('application/json').send(body);
        });
        registerForwarding(
          scope,
          octo.map((r) => ({ ...r, path: r.path.slice(OCTO_PREFIX.length) })),
          opts,
        );
      },
      { prefix: OCTO_PREFIX },
    );
  }
}

const OCTO_PREFIX = '/octo';

function registerForwarding(app: FastifyInstance, routes: RouteDef[], opts: ForwardedRoutesOptions): void {
  for (const route of routes) {
    if (route.service === 'gateway') continue;
    const service = route.service as UpstreamService;
    // Operators addressing a partner get 404 here when it does not exist: partners live in the gateway.
    const checksPartner = route.path.includes(':partner_id');
    // Device keys are checked by the redemption service; the payment webhook carries no credentials
    // of ours. Partner keys and the operator token stay at the edge.
    const keepCredentials = route.auth === 'device' || route.auth === 'webhook' || route.auth === 'public';

    app.route<{ Params: { partner_id?: string } }>({
      method: route.method,
      url: route.path,
      config: { auth: route.auth },
      handler: async (request, reply) => {
        const access = request.access;
        const caller: ForwardedCaller =
          access.actor === 'partner' && access.partnerId
            ? { kind: 'partner', partnerId: access.partnerId }
            : access.actor === 'admin'
              ? { kind: 'admin' }
              : { kind: 'none' };
        if (checksPartner && caller.kind === 'admin') {
          const partnerId = request.params.partner_id ?? '';
          if (isUuid(partnerId) && !(await partnerExists(opts.pool, partnerId))) {
            throw new AppError('NOT_FOUND', `No partner ${partnerId}`);
          }
        }
        return opts.upstreams.forward(request, reply, service, caller, { keepCredentials });
      },
    });
  }
}
