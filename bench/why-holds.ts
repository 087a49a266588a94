// `tsx bench/why-holds.ts [--duration=5]`: why the raw-pg hold baseline (Node, 64 clients, one hot row)
// sits far below pgbench. The same three-statement hold transaction on one pool row, from Node `pg` and
// from pgbench, at 1, 16 and 64 clients, with synchronous_commit on and off (what the WAL flush costs),
// all in one run on this machine's PostgreSQL, in a scratch database removed afterwards.
import os from 'node:os';
import { migrateDatabase } from '../test/resilience/system.ts';
import { holdTarget, nodeHolds, pgbenchHolds } from './baselines.ts';
import { createBenchEnvironment } from './environment.ts';

const durationS = Number(process.argv.find((a) => a.startsWith('--duration='))?.split('=')[1] ?? 5);
const env = await createBenchEnvironment();
const rows: string[][] = [];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join('/');
console.log(`load average at start ${load()} on ${os.cpus().length} cores; ${durationS} s per cell`);
try {
  await migrateDatabase(env.databaseUrl);
  const target = await holdTarget(env);
  for (const asyncCommit of [false, true]) {
    for (const clients of [1, 16, 64]) {
      const node = await nodeHolds(env, target, clients, clients, durationS, { asyncCommit });
      const pgb = await pgbenchHolds(env, target, clients, durationS, { asyncCommit });
      const row = [
        asyncCommit ? 'off' : 'on',
        String(clients),
        node.rate.toFixed(0),
        node.p50.toFixed(2),
        pgb ? pgb.tps.toFixed(0) : 'n/a',
        pgb ? pgb.latencyMs.toFixed(2) : 'n/a',
        pgb ? (node.rate / pgb.tps).toFixed(2) : 'n/a',
      ];
      rows.push(row);
      console.log(row.join('\t'));
    }
  }
} finally {
  await env.teardown();
}
const header = [
  'synchronous_commit',
  'clients',
  'Node holds/s',
  'Node p50 ms',
  'pgbench tps',
  'pgbench avg ms',
  'Node/pgbench',
];
console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`load average at end ${load()}`);
