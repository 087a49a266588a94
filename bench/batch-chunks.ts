// `tsx bench/batch-chunks.ts [--quantity=100000] [--rounds=2] [--before=<checkout>]`: what a batch costs
// at the database, without the services around it. In a scratch database (removed afterwards), the same
// number of tickets written by issuance's own generateBatch at 2,000 and 5,000 tickets a chunk, by the
// generateBatch of another installed checkout (`--before`, e.g. main's), and the `INSERT … SELECT
// generate_series` baseline of `pnpm bench`. Each run starts from empty tables; the rounds alternate
// the order. Reports wall time, the ratio to the baseline of the same round, this process's CPU, the
// PostgreSQL backend's CPU (one connection, /proc/<pid>/stat) and the WAL written. (At 84451e7 it also
// measured a COPY FROM STDIN chunk writer, which was no faster and was dropped.)
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { generateBatch } from '../services/issuance/src/domain/batches.ts';
import { migrateDatabase, seedCatalogue } from '../test/resilience/system.ts';
import { batchInsertBaseline, SCRATCH } from './baselines.ts';
import { processCpuMicros } from './cpu.ts';
import { createBenchEnvironment } from './environment.ts';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quantity = Number(arg('quantity') ?? 100_000);
const rounds = Number(arg('rounds') ?? 2);
const before = arg('before');

type Generate = typeof generateBatch;
const variants: { name: string; run: (pool: Pool, batchId: string) => Promise<unknown> }[] = [
  { name: 'chunk 2000', run: (p, id) => generateBatch(p, id, { chunkSize: 2000 }) },
  { name: 'chunk 5000', run: (p, id) => generateBatch(p, id, { chunkSize: 5000 }) },
];
if (before) {
  const mod = (await import(path.resolve(before, 'services/issuance/src/domain/batches.ts'))) as {
    generateBatch: Generate;
  };
  variants.unshift({
    name: 'before, chunk 2000',
    run: (p, id) => mod.generateBatch(p, id, { chunkSize: 2000 }),
  });
}

/** User + system CPU seconds of a process (bench/cpu.ts). */
const backendCpuS = (pid: number) => processCpuMicros(pid) / 1e6;

const env = await createBenchEnvironment();
const results = new Map<
  string,
  { wall: number[]; ratio: number[]; node: number[]; pg: number[]; walMb: number[] }
>();
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join('/');
console.log(`${quantity} tickets per run, ${rounds} rounds; load average at start ${load()}`);
try {
  await migrateDatabase(env.databaseUrl);
  await seedCatalogue(env.databaseUrl);
  const pool = env.newPool(1, 'batch-chunks');
  const { rows: ids } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const backend = ids[0]!.pid;
  const partnerId = crypto.randomUUID();
  const resellerId = crypto.randomUUID();
  await pool.query(
    `INSERT INTO issuance.product_catalogue (product_id, name, functions)
     SELECT product_id, 'Bench product', jsonb_agg(function_code ORDER BY position)
       FROM inventory.product_functions WHERE product_id = 106 GROUP BY product_id`,
  );
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    await pool.query('TRUNCATE issuance.tickets, issuance.outbox');
    await pool.query(`DROP SCHEMA IF EXISTS ${SCRATCH} CASCADE`); // the baseline's table, afresh
    const baseline = await batchInsertBaseline(env, quantity);
    console.log(`round ${round}: baseline ${baseline.toFixed(2)} s`);
    for (const v of order) {
      await pool.query('TRUNCATE issuance.tickets, issuance.outbox');
      await pool.query('CHECKPOINT');
      const batchId = crypto.randomUUID();
      await pool.query(
        `INSERT INTO issuance.batches (batch_id, partner_id, product_id, reseller_id, quantity, expires_at)
         VALUES ($1, $2, 106, $3, $4, now() + interval '30 days')`,
        [batchId, partnerId, resellerId, quantity],
      );
      const lsn0 = (await pool.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
      const pg0 = backendCpuS(backend);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await v.run(pool, batchId);
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const pg = backendCpuS(backend) - pg0;
      const { rows: w } = await pool.query<{ mb: number; n: number }>(
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 / 1048576 AS mb,
                (SELECT count(*)::int FROM issuance.tickets WHERE batch_id = $2) AS n`,
        [lsn0, batchId],
      );
      if (result !== 'completed' || w[0]!.n !== quantity)
        throw new Error(`${v.name}: ${String(result)}, ${w[0]!.n} tickets`);
      const r = results.get(v.name) ?? { wall: [], ratio: [], node: [], pg: [], walMb: [] };
      r.wall.push(wall);
      r.ratio.push(wall / baseline);
      r.node.push((cpu.user + cpu.system) / 1e6);
      r.pg.push(pg);
      r.walMb.push(w[0]!.mb);
      results.set(v.name, r);
      console.log(
        `  ${v.name}: ${wall.toFixed(2)} s (${(wall / baseline).toFixed(2)} × baseline), node CPU ${r.node.at(-1)!.toFixed(2)} s, backend CPU ${pg.toFixed(2)} s, WAL ${w[0]!.mb.toFixed(0)} MB`,
      );
    }
  }
} finally {
  await env.teardown();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  '\n| variant | wall s | × baseline | node CPU s | backend CPU s | WAL MB |\n|---|---|---|---|---|---|',
);
for (const [name, r] of results)
  console.log(
    `| ${name} | ${median(r.wall).toFixed(2)} | ${median(r.ratio).toFixed(2)} | ${median(r.node).toFixed(2)} | ${median(r.pg).toFixed(2)} | ${median(r.walMb).toFixed(0)} |`,
  );
console.log(`(medians of ${rounds} rounds; load average at end ${load()})`);
