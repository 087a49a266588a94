// Operator API owned by the gateway: partners, their API keys and the audit log. Thin adapters over
// domain/partners.ts and audit/audit-log.ts; the access-control hook has already checked the token.
import {
  AppError,
  type auditQuery,
  type Config,
  createApiKeyRoute,
  type createPartnerBody,
  createPartnerRoute,
  getPartnerRoute,
  idempotent,
  listAuditRoute,
  listPartnersRoute,
  type Pool,
  type paginationQuery,
  revokeApiKeyRoute,
  routeSchema,
  secretSealer,
  type updatePartnerBody,
  updatePartnerRoute,
} from '@cruise/shared';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { listAudit } from '../audit/audit-log.ts';
import {
  type ApiKeyRecord,
  createPartner,
  findPartner,
  issueKey,
  listKeys,
  listPartners,
  type PartnerRecord,
  revokeKey,
  updatePartner,
} from '../domain/partners.ts';

export interface AdminRoutesOptions {
  config: Pick<Config, 'ADMIN_TOKEN' | 'RATE_LIMIT_PER_MINUTE'>;
  pool: Pool;
  /** Called once a partner's keys, status or limit changed, so cached key lookups are dropped. */
  keysChanged?: (partnerId: string) => Promise<void>;
}

/** Operator idempotency keys share one scope: there is a single operator identity. */
const OPERATOR_SCOPE = 'operator';

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function idempotencyKey(headers: Record<string, unknown>): string | undefined {
  const key = headers['idempotency-key'];
  return typeof key === 'string' ? key : undefined;
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { pool, config } = opts;
  const keysChanged = opts.keysChanged ?? (async () => {});
  // Stored idempotent responses hold the new key sealed, never in plain text (see sealed-secrets.ts).
  const sealer = secretSealer(config.ADMIN_TOKEN, 'gateway:idempotent-api-keys');
  const effectiveLimit = (p: PartnerRecord) => p.rateLimitOverride ?? config.RATE_LIMIT_PER_MINUTE;
  const partnerView = (p: PartnerRecord, keys: ApiKeyRecord[]) => ({
    partner_id: p.partnerId,
    name: p.name,
    status: p.status,
    rate_limit_per_minute: effectiveLimit(p),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    api_keys: keys.map((k) => ({
      key_id: k.keyId,
      prefix: k.prefix,
      created_at: k.createdAt.toISOString(),
      revoked_at: iso(k.revokedAt),
    })),
  });
  const withKeys = async (p: PartnerRecord) =>
    partnerView(p, (await listKeys(pool, [p.partnerId])).get(p.partnerId) ?? []);

  app.removeContentTypeParser('application/json');
  // A POST without a body may still say `Content-Type: application/json`; that is not an error here.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('VALIDATION_FAILED', 'The body is not valid JSON'), undefined);
    }
  });

  app.route({
    method: createPartnerRoute.method,
    url: createPartnerRoute.path,
    schema: routeSchema(createPartnerRoute),
    config: { auth: createPartnerRoute.auth },
    handler: async (request, reply) => {
      const body = request.body as z.infer<typeof createPartnerBody>;
      const result = await idempotent(
        pool,
        'gateway',
        {
          scope: OPERATOR_SCOPE,
          key: idempotencyKey(request.headers),
          operation: createPartnerRoute.operationId,
          request: body,
        },
        async (client) => {
          const { partner, key } = await createPartner(client, {
            name: body.name,
            rateLimitPerMinute: body.rate_limit_per_minute,
          });
          return {
            status: 201,
            body: {
              partner_id: partner.partnerId,
              name: partner.name,
              api_key: sealer.seal(key.apiKey),
              rate_limit_per_minute: effectiveLimit(partner),
              status: partner.status,
            },
          };
        },
      );
      return reply.code(result.status).send({ ...result.body, api_key: sealer.open(result.body.api_key) });
    },
  });

  app.route({
    method: listPartnersRoute.method,
    url: listPartnersRoute.path,
    schema: routeSchema(listPartnersRoute),
    config: { auth: listPartnersRoute.auth },
    handler: async (request) => {
      const q = request.query as z.infer<typeof paginationQuery>;
      const { rows, total } = await listPartners(pool, { page: q.page, pageSize: q.page_size });
      const keys = await listKeys(
        pool,
        rows.map((r) => r.partnerId),
      );
      return {
        data: rows.map((p) => partnerView(p, keys.get(p.partnerId) ?? [])),
        page: q.page,
        page_size: q.page_size,
        total,
        has_more: q.page * q.page_size < total,
      };
    },
  });

  app.route({
    method: getPartnerRoute.method,
    url: getPartnerRoute.path,
    schema: routeSchema(getPartnerRoute),
    config: { auth: getPartnerRoute.auth },
    handler: async (request) => {
      const { partner_id } = request.params as { partner_id: string };
      const partner = await findPartner(pool, partner_id);
      if (!partner) throw new AppError('NOT_FOUND', `No partner ${partner_id}`);
      return withKeys(partner);
    },
  });

  app.route({
    method: updatePartnerRoute.method,
    url: updatePartnerRoute.path,
    schema: routeSchema(updatePartnerRoute),
    config: { auth: updatePartnerRoute.auth },
    handler: async (request) => {
      const { partner_id } = request.params as { partner_id: string };
      const body = request.body as z.infer<typeof updatePartnerBody>;
      const partner = await updatePartner(pool, partner_id, {
        status: body.status,
        rateLimitPerMinute: body.rate_limit_per_minute,
      });
      if (!partner) throw new AppError('NOT_FOUND', `No partner ${partner_id}`);
      await keysChanged(partner_id);
      return withKeys(partner);
    },
  });

  app.route({
    method: createApiKeyRoute.method,
    url: createApiKeyRoute.path,
    schema: routeSchema(createApiKeyRoute),
    config: { auth: createApiKeyRoute.auth },
    handler: async (request, reply) => {
      const { partner_id } = request.params as { partner_id: string };
      const result = await idempotent(
        pool,
        'gateway',
        {
          scope: OPERATOR_SCOPE,
          key: idempotencyKey(request.headers),
          operation: createApiKeyRoute.operationId,
          request: { partner_id },
        },
        async (client) => {
          const key = await issueKey(client, partner_id);
          if (!key) throw new AppError('NOT_FOUND', `No partner ${partner_id}`);
          return {
            status: 201,
            body: {
              key_id: key.keyId,
              api_key: sealer.seal(key.apiKey),
              prefix: key.prefix,
              created_at: key.createdAt.toISOString(),
            },
          };
        },
      );
      return reply.code(result.status).send({ ...result.body, api_key: sealer.open(result.body.api_key) });
    },
  });

  app.route({
    method: revokeApiKeyRoute.method,
    url: revokeApiKeyRoute.path,
    schema: routeSchema(revokeApiKeyRoute),
    config: { auth: revokeApiKeyRoute.auth },
    handler: async (request, reply) => {
      const { partner_id, key_id } = request.params as { partner_id: string; key_id: string };
      if (!(await revokeKey(pool, partner_id, key_id))) {
        throw new AppError('NOT_FOUND', `Partner ${partner_id} has no API key ${key_id}`);
      }
      await keysChanged(partner_id);
      return reply.code(204).send();
    },
  });

  app.route({
    method: listAuditRoute.method,
    url: listAuditRoute.path,
    schema: routeSchema(listAuditRoute),
    config: { auth: listAuditRoute.auth },
    handler: async (request) => {
      const q = request.query as z.infer<typeof auditQuery>;
      const { rows, total } = await listAudit(pool, {
        partnerId: q.partner_id,
        from: q.from,
        to: q.to,
        page: q.page,
        pageSize: q.page_size,
      });
      return {
        data: rows.map((r) => ({ ...r, at: r.at.toISOString() })),
        page: q.page,
        page_size: q.page_size,
        total,
        has_more: q.page * q.page_size < total,
      };
    },
  });
}
