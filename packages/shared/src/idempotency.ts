// Idempotency-Key support for POSTs that create something: the first request with a key does the work
// and stores its response in the same transaction; a repeat with the same body gets that response back,
// a repeat with another body gets 422. Concurrent duplicates queue on a transaction-scoped advisory
// lock, so exactly one does the work.
import { createHash } from 'node:crypto';
import { index, integer, jsonb, type PgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { type Pool, type PoolClient, withTransaction } from './db.ts';
import { AppError } from './errors.ts';

/** The idempotency table in a service's own schema. */
export function idempotencyTable(schema: PgSchema) {
  return schema.table(
    'idempotency_keys',
    {
      /** The partner (or `operator`) the key belongs to: keys are scoped per caller. */
      scope: text('scope').notNull(),
      key: text('key').notNull(),
      /** SHA-256 of the operation name and the validated request: a different body is a reused key. */
      requestHash: text('request_hash').notNull(),
      statusCode: integer('status_code').notNull(),
      body: jsonb('body').notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
  );
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface StoredResponse<T> {
  status: number;
  body: T;
  /** True when this is a replay of an earlier request's response. */
  replayed: boolean;
}

/**
 * Runs `work` in a transaction at most once per (scope, key). Only successful responses are stored:
 * a refusal (thrown AppError) rolls back and a retry with the same key is evaluated afresh.
 */
export async function idempotent<T>(
  pool: Pool,
  schema: string,
  opts: { scope: string; key: string | undefined; operation: string; request: unknown },
  work: (client: PoolClient) => Promise<{ status: number; body: T }>,
): Promise<StoredResponse<T>> {
  if (!opts.key) {
    const r = await withTransaction(pool, work);
    return { ...r, replayed: false };
  }
  const key = opts.key;
  const hash = createHash('sha256')
    .update(`${opts.operation}\n${stableJson(opts.request)}`)
    .digest('hex');
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `${schema}:${opts.scope}:${key}`,
    ]);
    const { rows } = await client.query<{ request_hash: string; status_code: number; body: T }>(
      `SELECT request_hash, status_code, body FROM "${schema}".idempotency_keys WHERE scope = $1 AND key = $2`,
      [opts.scope, key],
    );
    const existing = rows[0];
    if (existing) {
      if (existing.request_hash !== hash) {
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used with a different request; use a new key',
        );
      }
      return { status: existing.status_code, body: existing.body, replayed: true };
    }
    const result = await work(client);
    await client.query(
      `INSERT INTO "${schema}".idempotency_keys (scope, key, request_hash, status_code, body) VALUES ($1, $2, $3, $4, $5)`,
      [opts.scope, key, hash, result.status, JSON.stringify(result.body)],
    );
    return { ...result, replayed: false };
  });
}

/** Deletes keys older than the retention (24 h is the contract's minimum; we keep 48 h). */
export async function purgeIdempotencyKeys(pool: Pool, schema: string, olderThanHours = 48): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM "${schema}".idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`,
    [olderThanHours],
  );
  return rowCount ?? 0;
}
