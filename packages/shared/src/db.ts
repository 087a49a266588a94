// PostgreSQL access: one pg pool per process, drizzle on top, transactions with retry on serialization
// failures, and the migration runner (one schema and one migrations folder per service).
import type { InferSelectModel, Table } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Config } from './config.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Db = NodePgDatabase<Record<string, never>>;
/** What runs a statement: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

// BIGINT counts come back as strings by default; ours fit comfortably in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));
// NUMERIC (commission rates) as numbers too.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number.parseFloat(v));

export function createPool(
  config: Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>,
  applicationName = 'cruise',
): Pool {
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
    // A statement that runs away is cut off rather than holding a connection forever.
    statement_timeout: 30_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  // Nor may a checked-out one: between two queries of a transaction (while it awaits NATS, say) the
  // pool's idle listener is detached, and an 'error' event with no listener kills the process. The
  // failure still reaches the caller through its next query.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/**
 * A drizzle table's schema-qualified SQL name (`"issuance"."tickets"`), for the hand-tuned statements
 * written as SQL: they name tables through the drizzle definitions, so the schema is named once.
 */
export function sqlName(table: PgTable): string {
  const { schema, name } = getTableConfig(table);
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

/**
 * A row of `table` as a SQL statement returns it: each column under its SQL name, typed as drizzle
 * infers it (`Pick` the columns a statement selects). It holds for what pg returns because the process
 * parses int8/numeric as numbers (above) and statements cast `date` columns to text (pg would give a Date).
 */
export type SqlRow<T extends Table> = {
  [K in keyof T['_']['columns'] & string as T['_']['columns'][K]['_']['name']]: InferSelectModel<T>[K];
};

/**
 * Runs a bounded DELETE (`deleteSlice` deletes at most `slice` rows and says how many) until a slice
 * comes back short, so a large purge never holds one long transaction or long locks. Returns the total.
 */
export async function deleteInSlices(slice: number, deleteSlice: (slice: number) => Promise<number>) {
  let total = 0;
  for (;;) {
    const deleted = await deleteSlice(slice);
    total += deleted;
    if (deleted < slice) return total;
  }
}

export function createDb(pool: Pool): Db {
  return drizzle(pool);
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** Runs `fn` in a transaction on one client; retried (a few times) on serialization failures and deadlocks. */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  options: { isolation?: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE'; retries?: number } = {},
): Promise<T> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${options.isolation ?? 'READ COMMITTED'}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < retries) {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
        continue;
      }
      throw err;
    } finally {
      client.release();
    }
  }
}

export async function pingDatabase(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}

/** Creates the database named in `url` when it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[\w-]+$/.test(name)) throw new Error(`Unsupported database name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another starter
      });
    }
  } finally {
    await client.end();
  }
}

export interface MigrationSet {
  /** The PostgreSQL schema the service owns, e.g. `inventory`. */
  schema: string;
  /** Absolute path of the service's committed drizzle migrations folder. */
  folder: string;
}

/** Applies a service's committed migrations (idempotent; safe with several starters). */
export async function runMigrations(pool: Pool, set: MigrationSet): Promise<void> {
  // Serialise concurrent starters (several replicas booting at once) on an advisory lock.
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${set.schema}`]);
    // The journal lives apart from the service's schema, which the first migration itself creates.
    await migrate(drizzle(client), {
      migrationsFolder: set.folder,
      migrationsSchema: 'drizzle',
      migrationsTable: `__migrations_${set.schema}`,
    });
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrate:${set.schema}`]).catch(() => {});
    client.release();
  }
}
