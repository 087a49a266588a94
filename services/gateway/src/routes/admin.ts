// Operator API owned by the gateway: partners, their API keys and the audit log. Thin adapters over
// domain/partners.ts and audit/audit-log.ts; access control has already checked the operator token.
// Creating a partner or a key honours Idempotency-Key (the manifest declares the new key sealed in the
// stored answer).
import {
  AppError,
  type createApiKeyRoute,
  type createPartnerRoute,
  type getPartnerRoute,
  type Handler,
  type IdempotentHandler,
  type listAuditRoute,
  type listPartnersRoute,
  refusalError,
  type revokeApiKeyRoute,
  type updatePartnerRoute,
} from '@cruise/shared';
import type { FastifyInstance } from 'fastify';
import { listAudit } from '../audit/audit-log.ts';
import type { GatewayContext } from '../context.ts';
import {
  type ApiKeyRecord,
  updatePartner as changePartner,
  findPartner,
  createPartner as insertPartner,
  issueKey,
  listKeys,
  listPartners,
  PARTNERS_NEWEST_FIRST,
  type PartnerRecord,
  revokeKey,
} from '../domain/partners.ts';

/** Both keys are sealed under this purpose in stored idempotent answers. */
export const API_KEY_SEAL = { fields: ['api_key'], purpose: 'gateway:idempotent-api-keys' };

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const effectiveLimit = (ctx: GatewayContext, p: PartnerRecord) =>
  p.rateLimitOverride ?? ctx.config.RATE_LIMIT_PER_MINUTE;

function partnerView(ctx: GatewayContext, p: PartnerRecord, keys: ApiKeyRecord[]) {
  return {
    partner_id: p.partnerId,
    name: p.name,
    status: p.status,
    rate_limit_per_minute: effectiveLimit(ctx, p),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
    api_keys: keys.map((k) => ({
      key_id: k.keyId,
      prefix: k.prefix,
      created_at: k.createdAt.toISOString(),
      revoked_at: iso(k.revokedAt),
    })),
  };
}

async function withKeys(ctx: GatewayContext, p: PartnerRecord) {
  return partnerView(ctx, p, (await listKeys(ctx.pool, [p.partnerId])).get(p.partnerId) ?? []);
}

/** The admin scope's JSON parser: a POST without a body may still say `Content-Type: application/json`. */
export function emptyJsonIsNoBody(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('VALIDATION_FAILED', 'The body is not valid JSON'), undefined);
    }
  });
}

export const createPartner: IdempotentHandler<typeof createPartnerRoute, GatewayContext> = async ({
  body,
  tx,
  ctx,
}) => {
  const { partner, key } = await insertPartner(tx, {
    name: body.name,
    rateLimitPerMinute: body.rate_limit_per_minute,
  });
  return {
    partner_id: partner.partnerId,
    name: partner.name,
    api_key: key.apiKey,
    rate_limit_per_minute: effectiveLimit(ctx, partner),
    status: partner.status,
  };
};

export const getPartners: Handler<typeof listPartnersRoute, GatewayContext> = async ({ query, ctx }) => {
  const listed = await listPartners(ctx.pool, query);
  if (!listed.ok) throw refusalError(listed);
  const { request, rows, total } = listed;
  const keys = await listKeys(
    ctx.pool,
    rows.map((r) => r.partnerId),
  );
  return PARTNERS_NEWEST_FIRST.page(request, rows, total, (p) =>
    partnerView(ctx, p, keys.get(p.partnerId) ?? []),
  );
};

export const getPartner: Handler<typeof getPartnerRoute, GatewayContext> = async ({ params, ctx }) => {
  const partner = await findPartner(ctx.pool, params.partner_id);
  if (!partner) throw new AppError('NOT_FOUND', `No partner ${params.partner_id}`);
  return withKeys(ctx, partner);
};

export const updatePartner: Handler<typeof updatePartnerRoute, GatewayContext> = async ({
  params,
  body,
  ctx,
}) => {
  const partner = await changePartner(ctx.pool, params.partner_id, {
    status: body.status,
    rateLimitPerMinute: body.rate_limit_per_minute,
  });
  if (!partner) throw new AppError('NOT_FOUND', `No partner ${params.partner_id}`);
  await ctx.keysChanged(params.partner_id);
  return withKeys(ctx, partner);
};

export const createApiKey: IdempotentHandler<typeof createApiKeyRoute, GatewayContext> = async ({
  params,
  tx,
}) => {
  const key = await issueKey(tx, params.partner_id);
  if (!key) throw new AppError('NOT_FOUND', `No partner ${params.partner_id}`);
  return {
    key_id: key.keyId,
    api_key: key.apiKey,
    prefix: key.prefix,
    created_at: key.createdAt.toISOString(),
  };
};

export const revokeApiKey: Handler<typeof revokeApiKeyRoute, GatewayContext> = async ({ params, ctx }) => {
  if (!(await revokeKey(ctx.pool, params.partner_id, params.key_id))) {
    throw new AppError('NOT_FOUND', `Partner ${params.partner_id} has no API key ${params.key_id}`);
  }
  await ctx.keysChanged(params.partner_id);
  return undefined;
};

export const getAudit: Handler<typeof listAuditRoute, GatewayContext> = async ({ query, ctx }) => {
  const listed = await listAudit(ctx.pool, {
    partnerId: query.partner_id,
    from: query.from,
    to: query.to,
    page: query.page,
    page_size: query.page_size,
    cursor: query.cursor,
  });
  if (!listed.ok) throw refusalError(listed);
  return { ...listed.page, data: listed.page.data.map((r) => ({ ...r, at: r.at.toISOString() })) };
};
