// Recorded replies: the one store behind every "do it once, answer every repeat the same way": the
// HTTP Idempotency-Key (`idempotent()`, used by `idempotentRoute`), inventory's commands by the caller's
// reference, issuance's payment notifications by payment id. Each service keeps them in one table of its
// own schema (`idempotency_keys`), made by its migrations from the definition below.
//
// The claim is the record's primary key, inserted in the caller's transaction: a concurrent duplicate
// waits on that key until the first commits (then reads its reply) or rolls back (then claims it itself),
// so exactly one of them does the work. A reply is recorded in the same transaction as the work's effects.
import { createHash } from 'node:crypto';
import {
  index,
  integer,
  jsonb,
  type PgSchema,
  pgSchema,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { type Pool, type PoolClient, sqlName, withTransaction } from './db.ts';
import { AppError, type Outcome, type Refusal, refuse } from './errors.ts';

/** The recorded replies of a service, in its own schema. */
export function idempotencyTable(schema: PgSchema) {
  return schema.table(
    'idempotency_keys',
    {
      /** Whose key it is (a partner, `operator`, `command:<name>`, `payment`): keys are unique per scope. */
      scope: text('scope').notNull(),
      key: text('key').notNull(),
      /** SHA-256 of the request (and operation): the same key with another request is a reused key. */
      requestHash: text('request_hash').notNull(),
      /** Null only while the claiming transaction runs (never visible to another one). */
      statusCode: integer('status_code'),
      body: jsonb('body'),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      /** When the purge deletes it; null = kept (a command's or a payment's retry may come any time). */
      expiresAt: timestamp('expires_at', { withTimezone: true }),
    },
    (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_expires_idx').on(t.expiresAt)],
  );
}

export type ReplyTable = ReturnType<typeof idempotencyTable>;

const tablesBySchema = new Map<string, ReplyTable>();
/** The replies table of a schema named by string (the manifest knows its service's schema by name). */
export function replyTableOf(schemaName: string): ReplyTable {
  let table = tablesBySchema.get(schemaName);
  if (!table) {
    table = idempotencyTable(pgSchema(schemaName));
    tablesBySchema.set(schemaName, table);
  }
  return table;
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

/** Where replies are recorded and how long they are kept (`keepHours: null`: never purged). */
export interface ReplayStore {
  table: ReplyTable;
  keepHours: number | null;
}

export function replayStore(table: ReplyTable, opts: { keepHours: number | null }): ReplayStore {
  return { table, keepHours: opts.keepHours };
}

export interface ReplyKey {
  scope: string;
  key: string;
  /** What the reply answers: the same key with another request is refused (IDEMPOTENCY_KEY_REUSED). */
  request: unknown;
  /** Names the operation when one scope's keys serve several (an Idempotency-Key across routes). */
  operation?: string;
  /** The refusal's detail when the key was used for another request. */
  reusedDetail: string;
}

export interface Reply<T> {
  status: number;
  body: T;
}

/** A reply, and whether it is the replay of an earlier request's. */
export type RecordedReply<T> = Outcome<{ status: number; body: T; replayed: boolean }>;

function fingerprint(key: ReplyKey): string {
  const text = stableJson(key.request);
  return createHash('sha256')
    .update(key.operation === undefined ? text : `${key.operation}\n${text}`)
    .digest('hex');
}

/**
 * Runs `work` at most once per (scope, key), inside the caller's transaction, and records its reply
 * there. A repeat with the same request gets the recorded reply (`replayed`), one with another request
 * IDEMPOTENCY_KEY_REUSED. A refusal returned by `work` is not recorded (nor is anything when `work`
 * throws: the caller's transaction rolls back), so a retry is decided afresh. `replay` may decline a
 * recorded reply (a FAILED payment that now succeeded): `work` then runs again and its reply replaces it.
 */
export async function recordedReply<T>(
  client: PoolClient,
  store: ReplayStore,
  key: ReplyKey,
  work: () => Promise<Reply<T> | Refusal>,
  opts: { replay?: (recorded: Reply<T>) => boolean } = {},
): Promise<RecordedReply<T>> {
  const table = sqlName(store.table);
  const hash = fingerprint(key);
  let claimed = false;
  for (;;) {
    // A duplicate in flight holds this key: the insert waits for its transaction to end.
    const claim = await client.query(
      `INSERT INTO ${table} (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [key.scope, key.key, hash],
    );
    if (claim.rowCount === 1) {
      claimed = true;
      break;
    }
    // Recorded by a committed transaction; FOR UPDATE so that a superseding run is one at a time.
    const { rows } = await client.query<{ request_hash: string; status_code: number; body: T }>(
      `SELECT request_hash, status_code, body FROM ${table} WHERE scope = $1 AND key = $2 FOR UPDATE`,
      [key.scope, key.key],
    );
    const recorded = rows[0];
    if (!recorded) continue; // purged between the two statements: claim it again
    if (recorded.request_hash !== hash) return refuse('IDEMPOTENCY_KEY_REUSED', key.reusedDetail);
    const reply = { status: recorded.status_code, body: recorded.body };
    if (!opts.replay || opts.replay(reply)) return { ok: true, ...reply, replayed: true };
    break;
  }
  const result = await work();
  if ('ok' in result && result.ok === false) {
    // Not recorded: the claim goes (a duplicate waiting on it then claims it), a superseded reply stays.
    if (claimed) await releaseClaims(client, store, [key]);
    return result;
  }
  const reply = result as Reply<T>;
  await recordReplies(client, store, [{ scope: key.scope, key: key.key, ...reply }]);
  return { ok: true, ...reply, replayed: false };
}

/** What `claimReplies` found for one key. */
export type Claim<T> =
  /** Claimed by this transaction: decide it, then `recordReplies` (success) or `releaseClaims` (refusal). */
  | { claimed: true }
  /** Already answered: the recorded reply (a replay) or IDEMPOTENCY_KEY_REUSED, as `recordedReply` gives. */
  | { claimed: false; answer: RecordedReply<T> };

/**
 * `recordedReply`'s claim for several requests decided in one transaction (inventory's grouped holds):
 * every key is claimed in one statement, in key order, so two transactions claiming overlapping keys
 * queue on the first key they share instead of deadlocking. A key claimed by another transaction still
 * in flight makes the statement wait for it to end, exactly as one claim does: then its recorded reply
 * is read (a replay, or IDEMPOTENCY_KEY_REUSED on another request's hash), or, if it rolled back or
 * refused, the key is claimed here. One result per key, in the given order; the keys must be distinct.
 * The caller records the replies of what it did (`recordReplies`) and releases the claims of what it
 * refused (`releaseClaims`) before its transaction commits; a throw rolls every claim back.
 */
export async function claimReplies<T>(
  client: PoolClient,
  store: ReplayStore,
  keys: ReplyKey[],
): Promise<Claim<T>[]> {
  const table = sqlName(store.table);
  const id = (scope: string, key: string) => JSON.stringify([scope, key]);
  if (new Set(keys.map((k) => id(k.scope, k.key))).size !== keys.length) {
    throw new Error('claimReplies takes each (scope, key) once');
  }
  const hashes = keys.map(fingerprint);
  const claims: (Claim<T> | undefined)[] = keys.map(() => undefined);
  let open = keys.map((_, i) => i);
  while (open.length > 0) {
    const { rows: won } = await client.query<{ scope: string; key: string }>(
      `INSERT INTO ${table} (scope, key, request_hash)
       SELECT scope, key, hash FROM unnest($1::text[], $2::text[], $3::text[]) AS k(scope, key, hash)
       ORDER BY scope COLLATE "C", key COLLATE "C"
       ON CONFLICT DO NOTHING RETURNING scope, key`,
      [open.map((i) => keys[i]!.scope), open.map((i) => keys[i]!.key), open.map((i) => hashes[i]!)],
    );
    const claimed = new Set(won.map((r) => id(r.scope, r.key)));
    const taken = open.filter((i) => !claimed.has(id(keys[i]!.scope, keys[i]!.key)));
    for (const i of open) if (!taken.includes(i)) claims[i] = { claimed: true };
    if (taken.length === 0) break;
    // Recorded by committed transactions (the INSERT waited for any still in flight).
    const { rows } = await client.query<{
      scope: string;
      key: string;
      request_hash: string;
      status_code: number;
      body: T;
    }>(
      `SELECT r.scope, r.key, r.request_hash, r.status_code, r.body
       FROM ${table} r JOIN unnest($1::text[], $2::text[]) AS k(scope, key) ON r.scope = k.scope AND r.key = k.key`,
      [taken.map((i) => keys[i]!.scope), taken.map((i) => keys[i]!.key)],
    );
    const recorded = new Map(rows.map((r) => [id(r.scope, r.key), r]));
    open = [];
    for (const i of taken) {
      const key = keys[i]!;
      const row = recorded.get(id(key.scope, key.key));
      if (!row) {
        open.push(i); // purged between the two statements: claim it again
        continue;
      }
      claims[i] = {
        claimed: false,
        answer:
          row.request_hash === hashes[i]
            ? { ok: true, status: row.status_code, body: row.body, replayed: true }
            : refuse('IDEMPOTENCY_KEY_REUSED', key.reusedDetail),
      };
    }
  }
  return claims.map((c) => c!);
}

/** Records the replies of claimed keys (in the claiming transaction), with the store's retention. */
export async function recordReplies<T>(
  client: PoolClient,
  store: ReplayStore,
  replies: { scope: string; key: string; status: number; body: T }[],
): Promise<void> {
  if (replies.length === 0) return;
  await client.query(
    `UPDATE ${sqlName(store.table)} r SET status_code = k.status, body = k.body,
       expires_at = CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(hours => $5::int) END
     FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[]) AS k(scope, key, status, body)
     WHERE r.scope = k.scope AND r.key = k.key`,
    [
      replies.map((r) => r.scope),
      replies.map((r) => r.key),
      replies.map((r) => r.status),
      replies.map((r) => JSON.stringify(r.body)),
      store.keepHours,
    ],
  );
}

/**
 * Gives claimed keys back (a refusal is never recorded): a duplicate waiting on one then claims it when
 * this transaction commits, and a retry is decided afresh.
 */
export async function releaseClaims(
  client: PoolClient,
  store: ReplayStore,
  keys: { scope: string; key: string }[],
): Promise<void> {
  if (keys.length === 0) return;
  await client.query(
    `DELETE FROM ${sqlName(store.table)} r USING unnest($1::text[], $2::text[]) AS k(scope, key)
     WHERE r.scope = k.scope AND r.key = k.key`,
    [keys.map((k) => k.scope), keys.map((k) => k.key)],
  );
}

/** Deletes the replies past their time (Idempotency-Keys: 48 h; the contract's minimum is 24 h). */
export async function purgeReplies(pool: Pool, table: ReplyTable): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM ${sqlName(table)} WHERE expires_at < now()`);
  return rowCount ?? 0;
}

/** How long a reply to an Idempotency-Key is kept. */
export const IDEMPOTENCY_KEY_HOURS = 48;

export interface StoredResponse<T> {
  status: number;
  body: T;
  /** True when this is a replay of an earlier request's response. */
  replayed: boolean;
}

/** Where a service's Idempotency-Key replies are (what `idempotent()` uses). */
export function idempotencyKeyStore(schema: string): ReplayStore {
  return replayStore(replyTableOf(schema), { keepHours: IDEMPOTENCY_KEY_HOURS });
}

/** An HTTP request's Idempotency-Key as a reply key (what `idempotent()` claims). */
export function idempotencyKeyOf(opts: {
  scope: string;
  key: string;
  operation: string;
  request: unknown;
}): ReplyKey {
  return {
    scope: opts.scope,
    key: opts.key,
    operation: opts.operation,
    request: opts.request,
    reusedDetail: 'This Idempotency-Key was already used with a different request; use a new key',
  };
}

/**
 * An HTTP request with an Idempotency-Key: `work` runs in a transaction at most once per (scope, key).
 * Only successful responses are recorded: a refusal (thrown AppError) rolls back and a retry with the
 * same key is evaluated afresh. Without a key the work simply runs.
 */
export async function idempotent<T>(
  pool: Pool,
  schema: string,
  opts: { scope: string; key: string | undefined; operation: string; request: unknown },
  work: (client: PoolClient) => Promise<{ status: number; body: T }>,
): Promise<StoredResponse<T>> {
  const key = opts.key;
  if (!key) {
    const r = await withTransaction(pool, work);
    return { ...r, replayed: false };
  }
  const store = idempotencyKeyStore(schema);
  return withTransaction(pool, async (client) => {
    const reply = await recordedReply<T>(client, store, idempotencyKeyOf({ ...opts, key }), () =>
      work(client),
    );
    if (!reply.ok) throw new AppError(reply.code, reply.detail);
    return { status: reply.status, body: reply.body, replayed: reply.replayed };
  });
}
