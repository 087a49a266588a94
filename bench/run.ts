// `pnpm bench [--quick] [--only=reservations,batches,…] [--duration=20] [--keep]`
// Runs every service as a real process against a database, Redis prefix and NATS prefix of its own on
// this machine's PostgreSQL/Redis/NATS, measures each scenario next to a raw-database baseline taken in
// the same run, checks the system's invariants afterwards, prints a table and writes bench/results.json
// (bench/results-quick.json for --quick, the CI smoke mode). It reports; it never fails on a threshold.

import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeViolations, waitForInvariants } from '../test/resilience/invariants.ts';
import { migrateDatabase, raiseCapacity, seedCatalogue, startSystem } from '../test/resilience/system.ts';
import {
  batchInsertBaseline,
  type ReservationBaseline,
  reservationBaseline,
  singleRowUpdateBaseline,
  type UpdateBaseline,
} from './baselines.ts';
import { createBenchEnvironment } from './environment.ts';
import { renderTable, type ScenarioOutcome } from './report.ts';
import {
  type BenchContext,
  batches,
  createBenchPartner,
  gatewayOverhead,
  redemption,
  reservations,
  type Sizes,
  ticketQuery,
} from './scenarios.ts';
import { describeSettled, settle, settleTimeoutMs } from './settle.ts';
import { webhookFanOut } from './webhooks.ts';

const SCENARIOS = ['gateway', 'reservations', 'batches', 'redemption', 'tickets', 'webhooks'] as const;
type ScenarioKey = (typeof SCENARIOS)[number];

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const value = (name: string) => flag(name)?.split('=')[1];
const quick = !!flag('quick');
const only = new Set<ScenarioKey>((value('only')?.split(',') as ScenarioKey[] | undefined) ?? [...SCENARIOS]);
for (const s of only)
  if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
const keep = !!flag('keep');

const sizes: Sizes = quick
  ? {
      durationS: Number(value('duration') ?? 2),
      batchQuantity: 2_000,
      bigBatchQuantity: 10_000,
      redemptionTickets: 4_000,
      queryTickets: 20_000,
      reservationAllocation: 200_000,
    }
  : {
      durationS: Number(value('duration') ?? 20),
      batchQuantity: 100_000,
      bigBatchQuantity: 1_000_000,
      redemptionTickets: 60_000,
      queryTickets: 1_000_000,
      reservationAllocation: 5_000_000,
    };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
// The machine is shared: its load before and after the run says how much the figures can be trusted.
const loadAtStart = os.loadavg();
const log = (m: string) =>
  console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${m}`);

const outcomes: ScenarioOutcome[] = [];
const notes: string[] = [];
const env = await createBenchEnvironment();
log(
  `database ${env.databaseName}, Redis/NATS prefix ${env.prefix}, ${quick ? 'QUICK smoke mode' : 'full run'}`,
);
let system: Awaited<ReturnType<typeof startSystem>> | undefined;
let exitCode = 0;
try {
  await migrateDatabase(env.databaseUrl);
  await seedCatalogue(env.databaseUrl).catch((err) => notes.push(`seedCatalogue: ${(err as Error).message}`));
  // Seeded capacity is 10,000 per product across pools; the bench needs far more units than that.
  const capacity = await raiseCapacity(env.databaseUrl, 100_000_000);
  notes.push(`product capacity raised directly in the bench database: ${capacity}`);

  // Raw baselines first, while no service holds connections or CPU.
  let resBaseline: ReservationBaseline | undefined;
  let batchBaseline: number | undefined;
  let updateBaseline: UpdateBaseline | undefined;
  if (only.has('reservations')) {
    log('baseline: conditional pool update + reservation insert + ledger insert, raw pg, 64 clients');
    resBaseline = await reservationBaseline(env, 64, sizes.durationS);
  }
  if (only.has('batches') || only.has('redemption')) {
    log(`baseline: INSERT … SELECT generate_series of ${sizes.batchQuantity} tickets`);
    batchBaseline = await batchInsertBaseline(env, sizes.batchQuantity);
  }
  if (only.has('redemption')) {
    log('baseline: raw single-row UPDATE, 100 clients');
    updateBaseline = await singleRowUpdateBaseline(env, 100, sizes.durationS);
  }

  log('starting inventory, issuance, redemption and the gateway as processes');
  // BENCH_CPU_PROFILE=redemption,gateway: those processes run with --cpu-prof; the .cpuprofile files are
  // written when they stop, under BENCH_CPU_PROFILE_DIR (default bench/profiles/<service>).
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR ?? path.join(root, 'bench', 'profiles');
  const profiled = Object.fromEntries(
    (process.env.BENCH_CPU_PROFILE?.split(',').filter(Boolean) ?? []).map((name) => {
      const dir = path.join(profileDir, name);
      notes.push(`${name} ran with --cpu-prof (profile in ${path.relative(root, dir)})`);
      return [name, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` }];
    }),
  );
  const servicePoolSize = process.env.BENCH_DATABASE_POOL_SIZE ?? '16';
  system = await startSystem({
    databaseUrl: env.databaseUrl,
    redisUrl: env.redisUrl,
    natsUrl: env.natsUrl,
    prefix: env.prefix,
    withNotifications: only.has('webhooks'),
    // The bench's receivers listen on loopback (the services run with NODE_ENV=production).
    // Merged per service: profiling notifications must not drop its own settings.
    serviceEnv: {
      ...profiled,
      notifications: { ...profiled.notifications, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
    },
    env: {
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      DATABASE_POOL_SIZE: servicePoolSize,
      // Issuance's sweep picks up the million-ticket batch (created beyond the API's cap) within seconds.
      EXPIRY_SWEEP_SECONDS: '2',
      // The redemption scenarios scan with one device as fast as it is answered: far beyond a real
      // gate's 600/min, which would otherwise measure the per-device limit.
      DEVICE_RATE_LIMIT_PER_MINUTE: '100000000',
    },
  });
  notes.push(
    `each service ran with DATABASE_POOL_SIZE=${servicePoolSize} (default 20): four services share the server's max_connections with the rest of the machine`,
  );
  const partner = await createBenchPartner(system, env, 'Bench partner', notes);
  const ctx: BenchContext = { quick, sizes, env, system, partner, log };

  const run = async (key: ScenarioKey, name: string, fn: () => Promise<ScenarioOutcome>) => {
    if (!only.has(key)) return;
    try {
      outcomes.push(await fn());
    } catch (err) {
      log(`${name} FAILED: ${(err as Error).stack ?? err}`);
      outcomes.push({
        scenario: name,
        status: 'failed',
        figures: [],
        checks: [],
        error: (err as Error).message,
      });
    }
    // The next scenario starts on a quiet system, not on this one's backlog of events.
    const line = await settle(env, settleTimeoutMs(quick)).then(
      (settled) =>
        `after ${name}, outboxes and event consumers: ${describeSettled(settled)}${settled.settled ? '' : '; the next scenario shares the machine with it'}`,
      (err: unknown) =>
        `after ${name}: could not tell whether the system had settled: ${(err as Error).message}`,
    );
    log(line);
    notes.push(line);
  };
  await run('gateway', 'Gateway overhead', () => gatewayOverhead(ctx));
  await run('reservations', 'Reservations', () => reservations(ctx, resBaseline!));
  await run('batches', 'Bulk generation', () => batches(ctx, batchBaseline!));
  await run('redemption', 'Redemption', () => redemption(ctx, updateBaseline!));
  await run('webhooks', 'Webhooks', () => webhookFanOut(ctx, quick ? 1_000 : 10_000));

  // The system's invariants after all that traffic (before the ticket query seeds rows by hand).
  log('checking invariants');
  const invariants = await waitForInvariants(env.pool as never, { timeoutMs: quick ? 10_000 : 30_000 });
  outcomes.push({
    scenario: 'Invariants after the load',
    status: 'ok',
    figures: [],
    checks: invariants.map((r) => ({
      name: r.name,
      ok: r.ok,
      detail: r.ok ? '' : (r.error ?? JSON.stringify(r.violations.slice(0, 2))),
    })),
  });
  if (!invariants.every((r) => r.ok)) log(`invariant violations:\n${describeViolations(invariants)}`);

  await run('tickets', 'Ticket query', async () => {
    const { outcome, partnerId } = await ticketQuery(ctx);
    notes.push(
      `ticket query partner ${partnerId}: its tickets were inserted directly (excluded from invariants)`,
    );
    return outcome;
  });
} catch (err) {
  exitCode = 1;
  log(`bench aborted: ${(err as Error).stack ?? err}`);
  outcomes.push({
    scenario: 'Setup',
    status: 'failed',
    figures: [],
    checks: [],
    error: (err as Error).message,
  });
} finally {
  if (system) {
    // 5xx answers are logged by the services at error level: keep the first few as evidence.
    for (const [name, service] of system.services) {
      const errors = service
        .logs()
        .split('\n')
        .filter((l) => l.includes('"level":50') || l.includes('"level":60'));
      if (errors.length) {
        notes.push(`${name} logged ${errors.length} error(s); first: ${errors[0]!.slice(0, 600)}`);
      }
    }
    if (exitCode !== 0)
      for (const [name, s] of system.services) log(`${name} logs:\n${s.logs().slice(-3000)}`);
    await system.stop();
  }
  if (keep) log(`--keep: database ${env.databaseName} left in place`);
  else await env.teardown();
}

// A scenario that could not run means the harness (or the system) is broken: CI's smoke run must say so.
if (outcomes.some((o) => o.status === 'failed')) exitCode = 1;
const runtimeS = (performance.now() - started) / 1000;
const table = renderTable(outcomes);
console.log(`\n${table}\n`);
for (const n of notes) console.log(`note: ${n}`);
console.log(
  `runtime ${runtimeS.toFixed(1)} s; load average (1/5/15 min) at start ${loadAtStart.map((l) => l.toFixed(1)).join('/')}, ` +
    `at end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join('/')} on ${os.cpus().length} cores`,
);
const file = path.join(root, 'bench', quick ? 'results-quick.json' : 'results.json');
await writeFile(
  file,
  `${JSON.stringify(
    {
      mode: quick ? 'quick' : 'full',
      finished_at: new Date().toISOString(),
      runtime_s: Number(runtimeS.toFixed(1)),
      machine: {
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model,
        memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
        node: process.version,
        load_average_at_start: loadAtStart.map((l) => Number(l.toFixed(2))),
        load_average_at_end: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
      sizes,
      notes,
      outcomes,
      table,
    },
    null,
    2,
  )}\n`,
);
// In the repository's own format, so `pnpm lint` accepts the committed results as written.
spawnSync(path.join(root, 'node_modules', '.bin', 'biome'), ['format', '--write', file], { stdio: 'ignore' });
console.log(`results written to ${path.relative(root, file)}`);
process.exit(exitCode);
