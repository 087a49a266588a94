// The raw-database baselines each figure is compared with, measured in the same run on the same
// PostgreSQL: the same statements the services run, issued directly with `pg` against scratch copies of
// the services' tables (same columns, indexes, constraints and foreign keys, `LIKE … INCLUDING ALL`), so
// the services' own rows and counters stay untouched. They run before the services start, so the
// database has every connection it can give.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { type CpuAccount, cpuAccount } from './cpu.ts';
import type { BenchEnvironment } from './environment.ts';
import { type LoadResult, workerLoad } from './load.ts';

export const SCRATCH = 'bench_scratch';

/** How many connections a baseline may open without starving other users of the server. */
export async function connectionBudget(pool: Pool, wanted: number): Promise<number> {
  const { rows } = await pool.query<{ max: number; used: number; reserved: number }>(
    `SELECT current_setting('max_connections')::int AS max,
            current_setting('superuser_reserved_connections')::int AS reserved,
            (SELECT count(*)::int FROM pg_stat_activity) AS used`,
  );
  const r = rows[0]!;
  return Math.max(1, Math.min(wanted, r.max - r.reserved - r.used - 8));
}

/** Copies `schema.table` into the scratch schema with its indexes, constraints and foreign keys. */
async function copyTable(pool: Pool, schema: string, table: string, copied: string[]): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCRATCH}`);
  await pool.query(`CREATE TABLE ${SCRATCH}."${table}" (LIKE "${schema}"."${table}" INCLUDING ALL)`);
  const { rows } = await pool.query<{ conname: string; def: string }>(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype = 'f'`,
    [`"${schema}"."${table}"`],
  );
  for (const fk of rows) {
    let def = fk.def;
    for (const t of copied)
      def = def.replace(new RegExp(`\\b"?${schema}"?\\."?${t}"?\\(`), `${SCRATCH}."${t}"(`);
    await pool.query(`ALTER TABLE ${SCRATCH}."${table}" ADD CONSTRAINT "${fk.conname}" ${def}`);
  }
}

export interface ReservationBaseline {
  /** Node `pg` from the bench process, `connections` clients. */
  result: LoadResult;
  connections: number;
  /** The same transaction from Node at 16 clients (one hot row: fewer clients queue less on its lock). */
  node16?: LoadResult;
  /** The same transaction from pgbench (C, libpq, extended protocol), at 64 and 16 clients. */
  pgbench?: { clients: number; tps: number; latencyMs: number; transactions: number }[];
  /** The server's durability settings the figures were taken with. */
  settings?: Record<string, string>;
}

/**
 * What a hold costs the database: the conditional pool update, the reservation insert and the ledger
 * insert (the statements `moveUnits` + the reservation insert run), in one transaction, one unit each,
 * all on one pool row like the benchmark partner's holds.
 */
export async function reservationBaseline(
  env: BenchEnvironment,
  concurrency: number,
  durationS: number,
): Promise<ReservationBaseline> {
  const pool = env.pool;
  const { poolId, partnerId, visitDate } = await holdTarget(env);
  const connections = await connectionBudget(pool, concurrency);
  const result = await nodeHolds(env, { poolId, partnerId, visitDate }, connections, concurrency, durationS);
  // Why Node's figure sits far below pgbench's: the same transaction at fewer clients, and from pgbench
  // (C, libpq), at both client counts, in this run, on the same row.
  const node16 = await nodeHolds(env, { poolId, partnerId, visitDate }, 16, 16, durationS);
  const pgbench: NonNullable<ReservationBaseline['pgbench']> = [];
  for (const clients of [connections, 16]) {
    const r = await pgbenchHolds(env, { poolId, partnerId, visitDate }, clients, durationS);
    if (r) pgbench.push(r);
  }
  const { rows: settings } = await pool.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay')`,
  );
  return {
    result,
    connections,
    node16,
    pgbench,
    settings: Object.fromEntries(settings.map((r) => [r.name, r.setting])),
  };
}

export interface HoldTarget {
  poolId: string;
  partnerId: string;
  visitDate: string;
}

/** Scratch copies of inventory's pools, reservations and ledger, with one pool row to hold on. */
export async function holdTarget(env: BenchEnvironment): Promise<HoldTarget> {
  const pool = env.pool;
  await copyTable(pool, 'inventory', 'pools', []);
  await copyTable(pool, 'inventory', 'reservations', ['pools']);
  await copyTable(pool, 'inventory', 'inventory_ledger', ['pools']);
  const partnerId = randomUUID();
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ${SCRATCH}.pools (product_id, channel, partner_id, allocated) VALUES (106, 'ota', $1, 1000000000)
     RETURNING id`,
    [partnerId],
  );
  const visitDate = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return { poolId: rows[0]!.id, partnerId, visitDate };
}

/** `synchronous_commit=off`: a commit does not wait for its WAL flush (shows what fsync costs). */
export interface HoldOptions {
  asyncCommit?: boolean;
}

/** The three statements of a hold in one transaction, from Node `pg`, one unit each on one pool row. */
export async function nodeHolds(
  env: BenchEnvironment,
  target: HoldTarget,
  connections: number,
  concurrency: number,
  durationS: number,
  opts: HoldOptions = {},
): Promise<LoadResult> {
  const { poolId, partnerId, visitDate } = target;
  const clients = env.newPool(connections, 'bench-baseline');
  if (opts.asyncCommit) clients.on('connect', (c) => void c.query('SET synchronous_commit = off'));
  const items = JSON.stringify([
    { customer_type: 'adult', quantity: 1, unit_price: { amount: 28800, currency: 'USD' } },
  ]);
  let n = 0;
  const result = await workerLoad({
    concurrency,
    durationS,
    op: async () => {
      const c = await clients.connect();
      try {
        await c.query('BEGIN');
        const moved = await c.query(
          `UPDATE ${SCRATCH}.pools SET held = held + $2, sold = sold + $3, updated_at = now()
           WHERE id = $1 AND held + $2 >= 0 AND sold + $3 >= 0 AND allocated - (held + $2) - (sold + $3) >= 0
           RETURNING id, product_id, channel, partner_id, allocated, held, sold`,
          [poolId, 1, 0],
        );
        if (moved.rowCount !== 1) {
          await c.query('ROLLBACK');
          return false;
        }
        const reservation = await c.query<{ id: string }>(
          `INSERT INTO ${SCRATCH}.reservations (partner_id, pool_id, product_id, visit_date, day_type, status, items,
             quantity, total_amount, currency, expires_at, reseller_reference)
           VALUES ($1, $2, 106, $3, 'weekday', 'ON_HOLD', $4, 1, 28800, 'USD', now() + interval '1 day', $5)
           RETURNING id`,
          [partnerId, poolId, visitDate, items, `BASE-${n++}`],
        );
        await c.query(
          `INSERT INTO ${SCRATCH}.inventory_ledger (pool_id, kind, held_delta, reference) VALUES ($1, 'hold', 1, $2)`,
          [poolId, `reservation:${reservation.rows[0]!.id}`],
        );
        await c.query('COMMIT');
        return true;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
  });
  // Give the connections back now: the services start next and the server's max_connections is shared.
  await clients.end();
  return result;
}

const run = promisify(execFile);

/**
 * The same transaction (the same three statements, the reservation id carried to the ledger row with
 * `\gset`) driven by pgbench over the extended protocol, as Node `pg` sends it. Undefined when pgbench is
 * not installed (Debian: `postgresql-client`'s sibling `postgresql-contrib` / `pgbench`).
 */
export async function pgbenchHolds(
  env: BenchEnvironment,
  target: HoldTarget,
  clients: number,
  durationS: number,
  opts: HoldOptions = {},
): Promise<{ clients: number; tps: number; latencyMs: number; transactions: number } | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-pgbench-'));
  const items = JSON.stringify([
    { customer_type: 'adult', quantity: 1, unit_price: { amount: 28800, currency: 'USD' } },
  ]);
  const script = `\\set r random(1, 1000000000)
BEGIN;
UPDATE ${SCRATCH}.pools SET held = held + 1, sold = sold + 0, updated_at = now() WHERE id = '${target.poolId}' AND held + 1 >= 0 AND sold + 0 >= 0 AND allocated - (held + 1) - (sold + 0) >= 0 RETURNING id, product_id, channel, partner_id, allocated, held, sold;
INSERT INTO ${SCRATCH}.reservations (partner_id, pool_id, product_id, visit_date, day_type, status, items, quantity, total_amount, currency, expires_at, reseller_reference) VALUES ('${target.partnerId}', '${target.poolId}', 106, '${target.visitDate}', 'weekday', 'ON_HOLD', '${items}', 1, 28800, 'USD', now() + interval '1 day', 'PGB-' || :client_id || '-' || :r) RETURNING id AS reservation_id \\gset
INSERT INTO ${SCRATCH}.inventory_ledger (pool_id, kind, held_delta, reference) VALUES ('${target.poolId}', 'hold', 1, 'reservation:' || :reservation_id);
COMMIT;
`;
  const file = path.join(dir, 'hold.sql');
  await writeFile(file, script);
  try {
    const { stdout } = await run(
      'pgbench',
      [
        '-n',
        '-M',
        'extended',
        '-c',
        String(clients),
        '-j',
        '2',
        '-T',
        String(durationS),
        '-f',
        file,
        env.databaseUrl,
      ],
      {
        maxBuffer: 1 << 20,
        env: { ...process.env, PGOPTIONS: opts.asyncCommit ? '-c synchronous_commit=off' : '' },
      },
    );
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1]);
    return { clients, tps, latencyMs, transactions };
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The INSERT … SELECT generate_series of `quantity` pre-generated tickets, shaped like a batch's. */
export async function ticketInsertSql(
  pool: Pool,
  target: string,
  opts: {
    count: string;
    partnerId: string;
    batchId: string | null;
    productId: number;
    /** Column → SQL expression (may use `g`, the series value) replacing the default one. */
    overrides?: Record<string, string>;
  },
): Promise<string> {
  const { rows: columns } = await pool.query<{
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }>(
    `SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns
      WHERE table_schema = 'issuance' AND table_name = 'tickets' ORDER BY ordinal_position`,
  );
  const { rows: fns } = await pool.query<{ entitlements: unknown }>(
    `SELECT jsonb_agg(jsonb_build_object('function_code', function_code, 'redeemed_at', null) ORDER BY position)
       AS entitlements FROM inventory.product_functions WHERE product_id = $1`,
    [opts.productId],
  );
  const entitlements = JSON.stringify(fns[0]?.entitlements ?? []).replaceAll("'", "''");
  const known: Record<string, string> = {
    ticket_code: `replace(gen_random_uuid()::text, '-', '')`,
    partner_id: `'${opts.partnerId}'::uuid`,
    channel: `'reseller'`,
    product_id: String(opts.productId),
    status: `'PRE_GENERATED'`,
    batch_id: opts.batchId ? `'${opts.batchId}'::uuid` : 'NULL',
    batch_seq: 'g',
    entitlements: `'${entitlements}'::jsonb`,
    revision: '0',
    created_at: 'now()',
    ...opts.overrides,
  };
  const cols: string[] = [];
  const exprs: string[] = [];
  for (const c of columns) {
    if (c.is_identity === 'YES') continue;
    const expr = known[c.column_name];
    if (expr !== undefined) {
      cols.push(`"${c.column_name}"`);
      exprs.push(expr);
    } else if (c.is_nullable === 'NO' && c.column_default === null) {
      // A column added after this bench was written: give it a value of its type so the shape still matches.
      const byType: Record<string, string> = {
        text: `'x'`,
        integer: '0',
        bigint: '0',
        boolean: 'false',
        jsonb: `'{}'::jsonb`,
        uuid: 'gen_random_uuid()',
        'timestamp with time zone': 'now()',
        date: 'current_date',
      };
      cols.push(`"${c.column_name}"`);
      exprs.push(byType[c.data_type] ?? 'NULL');
    }
  }
  return `INSERT INTO ${target} (${cols.join(', ')}) SELECT ${exprs.join(', ')} FROM generate_series(1, ${opts.count}) AS g`;
}

/** Seconds to insert `quantity` batch-shaped tickets into a scratch copy of issuance.tickets. */
export async function batchInsertBaseline(env: BenchEnvironment, quantity: number): Promise<number> {
  await copyTable(env.pool, 'issuance', 'tickets', []);
  const sql = await ticketInsertSql(env.pool, `${SCRATCH}.tickets`, {
    count: String(quantity),
    partnerId: randomUUID(),
    batchId: randomUUID(),
    productId: 106,
  });
  const started = performance.now();
  await env.pool.query(sql);
  return (performance.now() - started) / 1000;
}

export interface UpdateBaseline {
  result: LoadResult;
  connections: number;
  /** Where the machine's CPU went, per update (PostgreSQL, the bench's own client, the rest). */
  cpu: CpuAccount;
}

/**
 * A raw single-row update by ticket code (each operation a different row of the scratch tickets the
 * batch baseline inserted), autocommit, from `concurrency` workers.
 */
export async function singleRowUpdateBaseline(
  env: BenchEnvironment,
  concurrency: number,
  durationS: number,
): Promise<UpdateBaseline> {
  const { rows } = await env.pool.query<{ ticket_code: string }>(
    `SELECT ticket_code FROM ${SCRATCH}.tickets`,
  );
  const codes = rows.map((r) => r.ticket_code);
  const connections = await connectionBudget(env.pool, concurrency);
  const clients = env.newPool(connections, 'bench-baseline-update');
  let i = 0;
  const account = cpuAccount({ 'load generator': process.pid });
  const result = await workerLoad({
    concurrency,
    durationS,
    op: async () => {
      const code = codes[i++ % codes.length]!;
      const res = await clients.query(
        `UPDATE ${SCRATCH}.tickets SET revision = revision + 1, used_at = now() WHERE ticket_code = $1`,
        [code],
      );
      return res.rowCount === 1;
    },
  });
  const cpu = account.end(result.total, 'update');
  await clients.end();
  return { result, connections, cpu };
}
