// Partners and their API keys: creation, suspension, key issue and revocation. Keys are random
// secrets shown once; the database only ever holds their SHA-256.
import {
  type KeyedRow,
  Keyset,
  type ListQuery,
  newId,
  newSecret,
  type Outcome,
  type PageRequest,
  type PartnerStatus,
  type Pool,
  type PoolClient,
  sha256Hex,
  withTransaction,
} from '@cruise/shared';
import { and, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { apiKeys } from '../db/schema/api-keys.ts';
import { partners } from '../db/schema/partners.ts';

export type Queryable = Pool | PoolClient;

export const API_KEY_PREFIX = 'ck_live';
/** How much of a key is kept for display: `ck_live_` plus four random characters. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 5;

export interface PartnerRecord {
  partnerId: string;
  name: string;
  status: PartnerStatus;
  /** The partner's own limit, or null for the deployment default. */
  rateLimitOverride: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRecord {
  keyId: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface IssuedKey {
  keyId: string;
  /** The plain key: returned to the operator once, never stored. */
  apiKey: string;
  prefix: string;
  createdAt: Date;
}

const partnerColumns = {
  partnerId: partners.id,
  name: partners.name,
  status: partners.status,
  rateLimitOverride: partners.rateLimitPerMinute,
  createdAt: partners.createdAt,
  updatedAt: partners.updatedAt,
};

export function newApiKey(): { apiKey: string; prefix: string; keyHash: string } {
  const apiKey = newSecret(API_KEY_PREFIX);
  return { apiKey, prefix: apiKey.slice(0, DISPLAY_PREFIX_LENGTH), keyHash: sha256Hex(apiKey) };
}

async function insertKey(db: Queryable, partnerId: string): Promise<IssuedKey> {
  const key = newApiKey();
  const [row] = await drizzle(db)
    .insert(apiKeys)
    .values({ id: newId(), partnerId, prefix: key.prefix, keyHash: key.keyHash })
    .returning({ keyId: apiKeys.id, createdAt: apiKeys.createdAt });
  return { keyId: row!.keyId, apiKey: key.apiKey, prefix: key.prefix, createdAt: row!.createdAt };
}

/** Creates a partner with its first key; run inside the caller's transaction so both or neither exist. */
export async function createPartner(
  db: Queryable,
  input: { name: string; rateLimitPerMinute?: number | undefined },
): Promise<{ partner: PartnerRecord; key: IssuedKey }> {
  const [partner] = await drizzle(db)
    .insert(partners)
    .values({ id: newId(), name: input.name, rateLimitPerMinute: input.rateLimitPerMinute ?? null })
    .returning(partnerColumns);
  const key = await insertKey(db, partner!.partnerId);
  return { partner: partner!, key };
}

export async function findPartner(db: Queryable, partnerId: string): Promise<PartnerRecord | undefined> {
  const [row] = await drizzle(db).select(partnerColumns).from(partners).where(eq(partners.id, partnerId));
  return row;
}

export async function partnerExists(db: Queryable, partnerId: string): Promise<boolean> {
  return (await findPartner(db, partnerId)) !== undefined;
}

/** Partners newest first (a single table: the key columns need no qualifier). */
export const PARTNERS_NEWEST_FIRST = new Keyset('partners', [
  { sql: 'created_at', type: 'timestamptz' },
  { sql: 'id', type: 'uuid' },
]);

export async function listPartners(
  db: Queryable,
  q: ListQuery,
): Promise<
  Outcome<{ request: PageRequest; rows: (PartnerRecord & KeyedRow)[]; total: number }, 'VALIDATION_FAILED'>
> {
  const resolved = PARTNERS_NEWEST_FIRST.request(q);
  if (!resolved.ok) return resolved;
  const { request } = resolved;
  const d = drizzle(db);
  // The total is a scalar subquery of the page's statement, so both come from one snapshot.
  const rows = await d
    .select({
      ...partnerColumns,
      keysetKey: sql<string[]>`${sql.raw(PARTNERS_NEWEST_FIRST.keyExpr)}`,
      total: sql<number>`(SELECT count(*)::int FROM ${partners})`,
    })
    .from(partners)
    .where(request.after ? PARTNERS_NEWEST_FIRST.afterSql(request.after) : undefined)
    .orderBy(sql.raw(PARTNERS_NEWEST_FIRST.orderBy))
    .limit(request.pageSize + 1)
    .offset(request.offset);
  // Past the last page there is no row to carry the total.
  const total = rows[0]?.total ?? (await d.select({ n: count() }).from(partners))[0]?.n ?? 0;
  return { ok: true, request, rows, total };
}

export async function listKeys(db: Queryable, partnerIds: string[]): Promise<Map<string, ApiKeyRecord[]>> {
  const byPartner = new Map<string, ApiKeyRecord[]>(partnerIds.map((id) => [id, []]));
  if (partnerIds.length === 0) return byPartner;
  const rows = await drizzle(db)
    .select({
      partnerId: apiKeys.partnerId,
      keyId: apiKeys.id,
      prefix: apiKeys.prefix,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(inArray(apiKeys.partnerId, partnerIds))
    .orderBy(apiKeys.createdAt, apiKeys.id);
  for (const { partnerId, ...key } of rows) byPartner.get(partnerId)?.push(key);
  return byPartner;
}

/** Changes status and/or rate limit; `rateLimitPerMinute: null` returns to the default. Undefined when unknown. */
export async function updatePartner(
  db: Queryable,
  partnerId: string,
  change: { status?: PartnerStatus | undefined; rateLimitPerMinute?: number | null | undefined },
): Promise<PartnerRecord | undefined> {
  const [row] = await drizzle(db)
    .update(partners)
    .set({
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: change.rateLimitPerMinute } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(partners.id, partnerId))
    .returning(partnerColumns);
  return row;
}

/** Issues another key for an existing partner; undefined when the partner does not exist. */
export async function issueKey(db: Queryable, partnerId: string): Promise<IssuedKey | undefined> {
  // Lock the partner row so a concurrent delete-free world stays simple: the key always has its partner.
  const [row] = await drizzle(db)
    .select({ id: partners.id })
    .from(partners)
    .where(eq(partners.id, partnerId))
    .for('share');
  if (!row) return undefined;
  return insertKey(db, partnerId);
}

/**
 * Revokes a key of the given partner. Revoking twice keeps the first revocation time.
 * Returns false when the partner has no such key (another partner's key included).
 */
export async function revokeKey(db: Queryable, partnerId: string, keyId: string): Promise<boolean> {
  const d = drizzle(db);
  const updated = await d
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.partnerId, partnerId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (updated.length > 0) return true;
  const [existing] = await d
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.partnerId, partnerId)));
  return existing !== undefined;
}

/** What a presented API key resolves to; looked up by hash on every (uncached) request. */
export interface KeyIdentity {
  keyId: string;
  partnerId: string;
  revoked: boolean;
  partnerStatus: PartnerStatus;
  rateLimitOverride: number | null;
}

export async function findKeyByHash(db: Queryable, keyHash: string): Promise<KeyIdentity | undefined> {
  const [row] = await drizzle(db)
    .select({
      keyId: apiKeys.id,
      partnerId: apiKeys.partnerId,
      revokedAt: apiKeys.revokedAt,
      partnerStatus: partners.status,
      rateLimitOverride: partners.rateLimitPerMinute,
    })
    .from(apiKeys)
    .innerJoin(partners, eq(partners.id, apiKeys.partnerId))
    .where(eq(apiKeys.keyHash, keyHash));
  if (!row) return undefined;
  const { revokedAt, ...rest } = row;
  return { ...rest, revoked: revokedAt !== null };
}

export const DEMO_PARTNER_NAME = 'Demo OTA';

/**
 * Creates the demo partner once. Several starters may race: an advisory lock serialises them, so
 * exactly one creates it and gets its key; the others (and later starts) get `api_key: null`.
 */
export async function seedDemoPartner(
  pool: Pool,
): Promise<{ partner_id: string; api_key: string } | { partner_id: string; api_key: null }> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['gateway:seed-demo-partner']);
    const [existing] = await drizzle(client)
      .select({ id: partners.id })
      .from(partners)
      .where(eq(partners.name, DEMO_PARTNER_NAME))
      .orderBy(partners.createdAt)
      .limit(1);
    if (existing) return { partner_id: existing.id, api_key: null };
    const { partner, key } = await createPartner(client, { name: DEMO_PARTNER_NAME });
    return { partner_id: partner.partnerId, api_key: key.apiKey };
  });
}
