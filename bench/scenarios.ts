// The bench scenarios, each driving the running system over HTTP as partners, the operator and scanners
// would, and returning its figures next to the baseline measured earlier in the same run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  connectNats,
  createCommandClient,
  rateLimitPerMinute,
  SERVICE_NODE_FLAGS,
  signInternalRequest,
  ticketListQuery,
} from '@cruise/shared';
import type { ServiceName } from '@cruise/testkit';
import { Redis } from 'ioredis';
import { announceKeyChange } from '../services/gateway/src/auth/credentials.ts';
import { ticketListOrder, ticketListSql } from '../services/issuance/src/domain/tickets.ts';
import { redeem } from '../services/redemption/src/domain/redeem.ts';
import {
  call,
  expectStatus,
  operator,
  type Partner,
  type System,
  visitDate,
} from '../test/resilience/system.ts';
import type { ReservationBaseline, UpdateBaseline } from './baselines.ts';
import { connectionBudget, ticketInsertSql } from './baselines.ts';
import { type CpuAccount, cpuAccount } from './cpu.ts';
import type { BenchEnvironment } from './environment.ts';
import { exactHttpLoad, httpLoad, type LoadResult, workerLoad } from './load.ts';
import type { Figure, ScenarioOutcome } from './report.ts';
import { describeSettled, settle, settleTimeoutMs } from './settle.ts';

export interface Sizes {
  durationS: number;
  batchQuantity: number;
  /** The million-ticket batch (beyond the API's cap of 100,000 per batch: created as issuance does). */
  bigBatchQuantity: number;
  redemptionTickets: number;
  queryTickets: number;
  reservationAllocation: number;
}

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  env: BenchEnvironment;
  system: System;
  partner: Partner;
  log(message: string): void;
}

/** Requests per minute the benchmark partners may send: far above anything the bench reaches. */
const BENCH_RATE_LIMIT = 10_000_000;

/**
 * A partner created through the operator API with the highest limit the API accepts, then raised
 * directly in the bench database so the limiter (which still runs on every request) never refuses.
 */
export async function createBenchPartner(
  system: System,
  env: BenchEnvironment,
  name: string,
  notes?: string[],
): Promise<Partner> {
  const apiMax = rateLimitPerMinute.maxValue ?? 100_000;
  const partner = await operator(system).createPartner(name, Math.min(apiMax, BENCH_RATE_LIMIT));
  if (apiMax < BENCH_RATE_LIMIT) {
    await env.pool.query('UPDATE gateway.partners SET rate_limit_per_minute = $2 WHERE id = $1', [
      partner.partner_id,
      BENCH_RATE_LIMIT,
    ]);
    // Key lookups (which carry the limit) are cached by every gateway instance until a change is
    // announced on Redis, as the operator API does after a change; this one was made behind its back.
    const redis = new Redis(env.redisUrl);
    try {
      await announceKeyChange(redis, env.prefix, partner.partner_id);
    } finally {
      redis.disconnect();
    }
    notes?.push(
      `"${name}": created with rate_limit_per_minute ${apiMax} (the API's maximum), raised to ${BENCH_RATE_LIMIT} directly in gateway.partners`,
    );
  }
  return partner;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
const loadSummary = (r: LoadResult) => ({
  total: r.total,
  ok: r.ok,
  failures: r.failures,
  errors: r.errors,
  duration_s: Number(r.durationS.toFixed(2)),
  rate: Number(r.rate.toFixed(1)),
  p50_ms: Number(r.p50.toFixed(3)),
  p90_ms: Number(r.p90.toFixed(3)),
  p99_ms: Number(r.p99.toFixed(3)),
  max_ms: Number(r.max.toFixed(3)),
});

function partnerHeaders(ctx: BenchContext): Record<string, string> {
  return { authorization: `Bearer ${ctx.partner.api_key}` };
}

// ------------------------------------------------------------------ gateway overhead

const pct = (share: number) => `${(100 * share).toFixed(0)} %`;

/** The processes the bench accounts CPU to by name: the services, and itself (the load generator). */
export function benchProcesses(ctx: BenchContext, extra: Record<string, number | undefined> = {}) {
  const named: Record<string, number | undefined> = { 'load generator': process.pid, ...extra };
  for (const [name, service] of ctx.system.services) named[name] = service.process.pid;
  return named;
}

/**
 * Runs `load` with an account of where the machine's CPU went (bench/cpu.ts), per completed request;
 * `perRequest` is `focus`'s share.
 */
async function withCpu<T extends LoadResult>(
  ctx: BenchContext,
  focus: string,
  load: () => Promise<T>,
  opts: { extra?: Record<string, number | undefined>; unit?: string } = {},
) {
  const account = cpuAccount(benchProcesses(ctx, opts.extra));
  const result = await load();
  const cpu = account.end(result.total, opts.unit ?? 'request');
  return { result, cpu, perRequest: cpu.perOp[focus] ?? Number.NaN };
}

/**
 * Starts `bench/bare-proxy.ts` (a pass-through HTTP proxy with nothing in it) in front of `upstream`, as
 * its own process with the services' Node flags; resolves once it listens.
 */
async function startBareProxy(upstream: string) {
  const child = spawn(
    process.execPath,
    [
      ...SERVICE_NODE_FLAGS,
      '--import',
      createRequire(import.meta.url).resolve('tsx'),
      fileURLToPath(new URL('./bare-proxy.ts', import.meta.url)),
      upstream,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [first] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => {
      throw new Error('bare proxy exited before listening');
    }),
  ])) as [Buffer];
  const { port } = JSON.parse(first.toString()) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

export async function gatewayOverhead(ctx: BenchContext): Promise<ScenarioOutcome> {
  const scenario = 'Gateway overhead (GET /api/ota/inventory)';
  const connections = 64;
  const path = `/api/ota/inventory?visit_date=${visitDate(3)}`;
  // Warm both paths (JIT, connection pools, caches) before measuring either.
  await httpLoad({
    url: `${ctx.system.gateway}${path}`,
    connections: 8,
    durationS: 1,
    headers: partnerHeaders(ctx),
  });
  // Signed as the gateway signs it, afresh for each run that carries it (a signature is valid for a minute).
  const internal = () =>
    signInternalRequest(ctx.system.secrets.internalToken, {
      method: 'GET',
      url: path,
      requestId: 'bench-direct',
      caller: { kind: 'partner', partnerId: ctx.partner.partner_id },
    });
  ctx.log(`${scenario}: inventory directly, ${connections} connections`);
  const directCpu = await withCpu(ctx, 'inventory', () =>
    httpLoad({
      url: `${ctx.system.url('inventory')}${path}`,
      connections,
      durationS: ctx.sizes.durationS,
      headers: internal(),
    }),
  );
  const direct = directCpu.result;
  ctx.log(`${scenario}: through the gateway, ${connections} connections`);
  const gatewayCpu = await withCpu(ctx, 'gateway', () =>
    httpLoad({
      url: `${ctx.system.gateway}${path}`,
      connections,
      durationS: ctx.sizes.durationS,
      headers: partnerHeaders(ctx),
    }),
  );
  const gateway = gatewayCpu.result;
  const inventoryBehindGateway = gatewayCpu.cpu.perOp.inventory ?? Number.NaN;
  // The floor: the same request through a proxy that does nothing but the hop (bench/bare-proxy.ts),
  // carrying the internal headers the direct run sends. No proxy can cost less than this here.
  ctx.log(`${scenario}: through a bare pass-through proxy, ${connections} connections`);
  const bareProxy = await startBareProxy(ctx.system.url('inventory'));
  const bareCpu = await withCpu(
    ctx,
    'bare proxy',
    () =>
      httpLoad({
        url: `${bareProxy.url}${path}`,
        connections,
        durationS: ctx.sizes.durationS,
        headers: internal(),
      }),
    { extra: { 'bare proxy': bareProxy.pid } },
  ).finally(() => bareProxy.stop());
  const bare = bareCpu.result;
  // At 64 connections both paths are saturated and p50 is mostly queueing; one connection shows what the
  // extra hop itself adds to a request.
  const singleS = Math.max(1, Math.round(ctx.sizes.durationS / 4));
  ctx.log(`${scenario}: one connection each, ${singleS} s`);
  const directSingle = await httpLoad({
    url: `${ctx.system.url('inventory')}${path}`,
    connections: 1,
    durationS: singleS,
    headers: internal(),
  });
  const gatewaySingle = await httpLoad({
    url: `${ctx.system.gateway}${path}`,
    connections: 1,
    durationS: singleS,
    headers: partnerHeaders(ctx),
  });
  const addedSingle = gatewaySingle.p50 - directSingle.p50;
  const throughputRatio = ratio(gateway.rate, direct.rate);
  const bareRatio = ratio(bare.rate, direct.rate);
  // With every core busy, throughput is the machine's CPU over the CPU a request costs all processes
  // together, so a proxy's ratio is bounded by direct / (direct + the proxy's own CPU per request).
  const directMachine = directCpu.cpu.perOp.machine!;
  const budgetFor90 = directMachine * (1 / 0.9 - 1);
  const cpuBound = (proxy: number) => directMachine / (directMachine + proxy);
  const added = gateway.p50 - direct.p50;
  const figures: Figure[] = [
    {
      scenario,
      measure: `throughput, ${connections} conns`,
      value: gateway.rate,
      unit: 'req/s',
      baseline: { label: 'inventory direct', value: direct.rate, unit: 'req/s' },
      ratio: throughputRatio,
      target: { text: 'ratio >= 0.9', met: throughputRatio >= 0.9 },
    },
    {
      scenario,
      measure: `floor: bare pass-through proxy throughput, ${connections} conns`,
      value: bare.rate,
      unit: 'req/s',
      baseline: { label: 'inventory direct', value: direct.rate, unit: 'req/s' },
      ratio: bareRatio,
      note: `node:http + undici with nothing else (bench/bare-proxy.ts): the most any proxy in Node reaches here; the gateway reaches ${ratio(gateway.rate, bare.rate).toFixed(2)} of it`,
    },
    {
      scenario,
      measure: `floor: bare proxy CPU per request, ${connections} conns`,
      value: bareCpu.perRequest,
      unit: 'µs',
      baseline: { label: 'inventory CPU per request', value: directCpu.perRequest, unit: 'µs' },
      ratio: ratio(bareCpu.perRequest, directCpu.perRequest),
      note: `the gateway's own work on top of the hop: ${(gatewayCpu.perRequest - bareCpu.perRequest).toFixed(0)} µs per request`,
    },
    {
      scenario,
      measure: `CPU a proxy may add per request for ratio 0.9, ${connections} conns`,
      value: budgetFor90,
      unit: 'µs',
      baseline: { label: 'bare proxy CPU per request', value: bareCpu.perRequest, unit: 'µs' },
      ratio: ratio(bareCpu.perRequest, budgetFor90),
      note: `the machine was ${pct(directCpu.cpu.busy)} busy in the direct run, ${pct(gatewayCpu.cpu.busy)} through the gateway: CPU-bound. Per request, direct: ${directCpu.cpu.text}; through the gateway: ${gatewayCpu.cpu.text}; through the bare proxy: ${bareCpu.cpu.text}. A proxy's own CPU alone bounds its ratio at direct / (direct + own): ${cpuBound(gatewayCpu.perRequest).toFixed(2)} for the gateway (measured ${throughputRatio.toFixed(2)}), ${cpuBound(bareCpu.perRequest).toFixed(2)} for the bare proxy (measured ${bareRatio.toFixed(2)})`,
    },
    {
      scenario,
      measure: 'p50 latency',
      value: gateway.p50,
      unit: 'ms',
      baseline: { label: 'inventory direct', value: direct.p50, unit: 'ms' },
      ratio: ratio(gateway.p50, direct.p50),
      target: { text: `added p50 <= 1 ms (added ${added.toFixed(2)} ms)`, met: added <= 1 },
    },
    {
      scenario,
      measure: 'p99 latency',
      value: gateway.p99,
      unit: 'ms',
      baseline: { label: 'inventory direct', value: direct.p99, unit: 'ms' },
      ratio: ratio(gateway.p99, direct.p99),
    },
    {
      scenario,
      measure: `gateway CPU per request, ${connections} conns`,
      value: gatewayCpu.perRequest,
      unit: 'µs',
      baseline: { label: 'inventory CPU per request', value: directCpu.perRequest, unit: 'µs' },
      ratio: ratio(gatewayCpu.perRequest, directCpu.perRequest),
      note: `process CPU (user+system, /proc/<pid>/stat) during the gateway run / responses; inventory behind the gateway used ${inventoryBehindGateway.toFixed(0)} µs per request`,
    },
    {
      scenario,
      measure: 'p50 latency, 1 connection',
      value: gatewaySingle.p50,
      unit: 'ms',
      baseline: { label: 'inventory direct', value: directSingle.p50, unit: 'ms' },
      ratio: ratio(gatewaySingle.p50, directSingle.p50),
      target: { text: `added p50 <= 1 ms (added ${addedSingle.toFixed(2)} ms)`, met: addedSingle <= 1 },
    },
  ];
  const checks = [
    {
      name: 'every request answered 2xx',
      ok: [direct, gateway, bare, directSingle, gatewaySingle].every(
        (r) => r.ok === r.total && r.errors === 0,
      ),
      detail: `direct ${JSON.stringify(direct.failures)} errors ${direct.errors}; gateway ${JSON.stringify(gateway.failures)} errors ${gateway.errors}; bare proxy ${JSON.stringify(bare.failures)} errors ${bare.errors}; one connection: direct ${JSON.stringify(directSingle.failures)}, gateway ${JSON.stringify(gatewaySingle.failures)}`,
    },
  ];
  return {
    scenario,
    status: 'ok',
    figures,
    checks,
    details: {
      direct: loadSummary(direct),
      gateway: loadSummary(gateway),
      bare_proxy: loadSummary(bare),
      cpu_us_per_request: {
        gateway: gatewayCpu.perRequest,
        bare_proxy: bareCpu.perRequest,
        inventory_direct: directCpu.perRequest,
        inventory_behind_gateway: inventoryBehindGateway,
      },
      cpu_account_us_per_request: {
        direct: directCpu.cpu.perOp,
        gateway: gatewayCpu.cpu.perOp,
        bare_proxy: bareCpu.cpu.perOp,
      },
      machine_busy: {
        direct: directCpu.cpu.busy,
        gateway: gatewayCpu.cpu.busy,
        bare_proxy: bareCpu.cpu.busy,
      },
      direct_one_connection: loadSummary(directSingle),
      gateway_one_connection: loadSummary(gatewaySingle),
    },
  };
}

// ------------------------------------------------------------------ reservations

export async function reservations(
  ctx: BenchContext,
  baseline: ReservationBaseline,
): Promise<ScenarioOutcome> {
  const scenario = 'Reservations (POST /api/ota/reservations)';
  const connections = 64;
  const allocation = ctx.sizes.reservationAllocation;
  await operator(ctx.system).allocate(ctx.partner.partner_id, 106, 'ota', allocation);
  const body = JSON.stringify({
    product_id: 106,
    visit_date: visitDate(2),
    reseller_reference: 'BENCH',
    items: [{ customer_type: 'adult', quantity: 1 }],
  });
  ctx.log(`${scenario}: ${connections} connections for ${ctx.sizes.durationS} s`);
  const run = await exactHttpLoad({
    url: `${ctx.system.gateway}/api/ota/reservations`,
    method: 'POST',
    connections,
    durationS: ctx.sizes.durationS,
    headers: partnerHeaders(ctx),
    body,
    isOk: (s) => s === 201,
  });
  const base = baseline.result;
  const r = ratio(run.rate, base.rate);
  const figures: Figure[] = [
    {
      scenario,
      measure: `holds/s, ${connections} clients`,
      value: run.rate,
      unit: 'holds/s',
      baseline: { label: `raw pg, ${baseline.connections} conns`, value: base.rate, unit: 'holds/s' },
      ratio: r,
      target: { text: 'ratio >= 1.0', met: r >= 1 },
    },
    // The same transaction from pgbench (C, libpq, extended protocol) and from Node at 16 clients: the
    // Node baseline's own client cost and the hot row's lock queue, measured in this run.
    ...(baseline.pgbench ?? []).map(
      (pb): Figure => ({
        scenario,
        measure: `holds/s vs pgbench, ${pb.clients} clients`,
        value: run.rate,
        unit: 'holds/s',
        baseline: { label: `pgbench, ${pb.clients} conns`, value: pb.tps, unit: 'tps' },
        ratio: ratio(run.rate, pb.tps),
        note: `pgbench latency average ${pb.latencyMs} ms, ${pb.transactions} transactions`,
      }),
    ),
    ...(baseline.node16
      ? [
          {
            scenario,
            measure: 'holds/s vs raw pg at 16 clients',
            value: run.rate,
            unit: 'holds/s',
            baseline: { label: 'raw pg, 16 conns', value: baseline.node16.rate, unit: 'holds/s' },
            ratio: ratio(run.rate, baseline.node16.rate),
            note: `raw pg at 16 clients: p50 ${baseline.node16.p50.toFixed(2)} ms, p99 ${baseline.node16.p99.toFixed(2)} ms`,
          } satisfies Figure,
        ]
      : []),
    {
      scenario,
      measure: 'p50 latency',
      value: run.p50,
      unit: 'ms',
      baseline: { label: 'raw pg', value: base.p50, unit: 'ms' },
      ratio: ratio(run.p50, base.p50),
    },
    {
      scenario,
      measure: 'p99 latency',
      value: run.p99,
      unit: 'ms',
      baseline: { label: 'raw pg', value: base.p99, unit: 'ms' },
      ratio: ratio(run.p99, base.p99),
    },
  ];
  // Exactly the successful holds are held (or sold), and never more than the allocation.
  const { rows } = await ctx.env.pool.query<{
    allocated: number;
    held: number;
    sold: number;
    reservations: number;
  }>(
    `SELECT p.allocated, p.held, p.sold,
            (SELECT count(*)::int FROM inventory.reservations r WHERE r.pool_id = p.id) AS reservations
       FROM inventory.pools p WHERE p.partner_id = $1 AND p.channel = 'ota' AND p.product_id = 106`,
    [ctx.partner.partner_id],
  );
  const pool = rows[0];
  const checks = [
    {
      name: 'held + sold = successful holds',
      ok: !!pool && pool.held + pool.sold === run.ok,
      detail: `201 responses ${run.ok}; pool held ${pool?.held} + sold ${pool?.sold}; reservation rows ${pool?.reservations}`,
    },
    {
      name: 'held + sold <= allocation',
      ok: !!pool && pool.held + pool.sold <= pool.allocated,
      detail: `allocated ${pool?.allocated}`,
    },
    {
      name: 'no 5xx, no network error',
      ok: run.errors === 0 && Object.keys(run.failures).every((s) => Number(s) < 500),
      detail: `failures ${JSON.stringify(run.failures)}, errors ${run.errors}`,
    },
  ];
  return {
    scenario,
    status: 'ok',
    figures,
    checks,
    details: {
      gateway: loadSummary(run),
      baseline: { ...loadSummary(base), connections: baseline.connections },
      baseline_node_16_clients: baseline.node16 ? loadSummary(baseline.node16) : undefined,
      baseline_pgbench: baseline.pgbench,
      server_settings: baseline.settings,
    },
  };
}

// ------------------------------------------------------------------ batches

async function createReseller(ctx: BenchContext, name: string): Promise<string> {
  const res = await call('POST', `${ctx.system.gateway}/api/ota/resellers`, {
    headers: partnerHeaders(ctx),
    body: { name, contact_email: 'bench@example.com', region: 'Bench', commission_rate: 0.1 },
  });
  return expectStatus(res, 201, 'create reseller').reseller_id as string;
}

async function submitBatch(ctx: BenchContext, resellerId: string, quantity: number): Promise<string> {
  const res = await call('POST', `${ctx.system.gateway}/api/ota/tickets/bulk-generate`, {
    headers: partnerHeaders(ctx),
    body: { product_id: 106, quantity, reseller_id: resellerId, batch_reference: `BENCH-${quantity}` },
  });
  return expectStatus(res, 202, 'bulk-generate').batch_id as string;
}

async function waitForBatch(ctx: BenchContext, batchId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', `${ctx.system.gateway}/api/ota/batches/${batchId}`, {
      headers: partnerHeaders(ctx),
    });
    const batch = expectStatus(res, 200, 'get batch');
    if (batch.status === 'COMPLETED') return batch;
    if (batch.status === 'FAILED') throw new Error(`batch ${batchId} FAILED: ${batch.error}`);
    if (Date.now() > deadline)
      throw new Error(`batch ${batchId} not completed in time: ${JSON.stringify(batch)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A batch larger than the API accepts (100,000), created the way issuance's `createBatch` does: its units
 * held in the partner's reseller pool through inventory's `holdBatch` command, then its row. Its job is
 * enqueued by issuance's own stranded-batch sweep (batches still QUEUED a minute after creation), so the
 * row is dated two minutes back; the worker then generates it like any other batch.
 */
async function createOversizedBatch(
  ctx: BenchContext,
  resellerId: string,
  quantity: number,
): Promise<string> {
  const batchId = crypto.randomUUID();
  const nc = await connectNats({ NATS_URL: ctx.env.natsUrl }, 'bench');
  try {
    const inventory = createCommandClient(nc, ctx.env.prefix, 30_000);
    const held = await inventory.send('holdBatch', {
      batch_id: batchId,
      partner_id: ctx.partner.partner_id,
      product_id: 106,
      quantity,
    });
    if (!held.ok) throw new Error(`holdBatch refused: ${held.code} ${held.detail}`);
  } finally {
    await nc.close();
  }
  await ctx.env.pool.query(
    `INSERT INTO issuance.batches (batch_id, partner_id, product_id, reseller_id, quantity, batch_reference, expires_at,
       created_at)
     VALUES ($1, $2, 106, $3, $4, 'BENCH-MILLION', now() + interval '30 days', now() - interval '2 minutes')`,
    [batchId, ctx.partner.partner_id, resellerId, quantity],
  );
  return batchId;
}

function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

async function batchTicketCheck(ctx: BenchContext, batchId: string, quantity: number) {
  const { rows } = await ctx.env.pool.query<{ n: number; seqs: number; codes: number; pre: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT batch_seq)::int AS seqs, count(DISTINCT ticket_code)::int AS codes,
            count(*) FILTER (WHERE status = 'PRE_GENERATED')::int AS pre
       FROM issuance.tickets WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    name: `batch of ${quantity}: exactly ${quantity} distinct PRE_GENERATED tickets`,
    ok: r.n === quantity && r.seqs === quantity && r.codes === quantity && r.pre === quantity,
    detail: `rows ${r.n}, distinct seqs ${r.seqs}, distinct codes ${r.codes}, pre-generated ${r.pre}`,
  };
}

export async function batches(ctx: BenchContext, baselineSeconds: number): Promise<ScenarioOutcome> {
  const scenario = 'Bulk generation (POST /api/ota/tickets/bulk-generate)';
  const { batchQuantity } = ctx.sizes;
  const total = batchQuantity + ctx.sizes.bigBatchQuantity;
  await operator(ctx.system).allocate(ctx.partner.partner_id, 106, 'reseller', total);
  const resellerId = await createReseller(ctx, 'Bench reseller');

  ctx.log(`${scenario}: one batch of ${batchQuantity}`);
  const started = performance.now();
  const batchId = await submitBatch(ctx, resellerId, batchQuantity);
  const batch = await waitForBatch(ctx, batchId, 600_000);
  const seconds = (performance.now() - started) / 1000;
  const serverSeconds = (Date.parse(batch.completed_at) - Date.parse(batch.created_at)) / 1000;
  const r = ratio(seconds, baselineSeconds);
  const figures: Figure[] = [
    {
      scenario,
      measure: `${batchQuantity.toLocaleString('en-US')} tickets, POST to COMPLETED`,
      value: seconds,
      unit: 's',
      baseline: { label: 'INSERT…SELECT generate_series', value: baselineSeconds, unit: 's' },
      ratio: r,
      target: { text: 'ratio <= 2', met: r <= 2 },
      note: `server side created_at→completed_at ${serverSeconds.toFixed(2)} s`,
    },
  ];
  const checks = [await batchTicketCheck(ctx, batchId, batchQuantity)];

  // Peak memory of the worker: restart issuance so VmHWM covers only the big run, then sample.
  const { bigBatchQuantity } = ctx.sizes;
  ctx.log(`${scenario}: one batch of ${bigBatchQuantity} (peak RSS of the issuance worker)`);
  await ctx.system.services.get('issuance')!.stop();
  const issuance = await ctx.system.start('issuance');
  const pid = issuance.process.pid!;
  const before = memoryOf(pid);
  let peakSampled = before.rssKb;
  const sampler = setInterval(() => {
    try {
      peakSampled = Math.max(peakSampled, memoryOf(pid).rssKb);
    } catch {
      // process gone: the wait below reports it
    }
  }, 100);
  let big: { id: string; seconds: number; generationSeconds: number; hwmKb: number };
  try {
    const id = await createOversizedBatch(ctx, resellerId, bigBatchQuantity);
    const submitted = performance.now();
    const done = await waitForBatch(ctx, id, 1_800_000);
    const { rows } = await ctx.env.pool.query<{ seconds: number }>(
      'SELECT extract(epoch FROM completed_at - started_at)::float8 AS seconds FROM issuance.batches WHERE batch_id = $1',
      [id],
    );
    big = {
      id,
      seconds: (performance.now() - submitted) / 1000,
      generationSeconds: rows[0]?.seconds ?? Number.NaN,
      hwmKb: memoryOf(pid).hwmKb,
    };
    if (done.generated !== bigBatchQuantity) throw new Error(`big batch generated ${done.generated}`);
  } finally {
    clearInterval(sampler);
  }
  const peakMb = Math.max(big.hwmKb, peakSampled) / 1024;
  const label = bigBatchQuantity.toLocaleString('en-US');
  figures.push(
    {
      scenario,
      measure: `${label}-ticket batch: worker peak RSS`,
      value: peakMb,
      unit: 'MB',
      target: { text: '< 300 MB', met: peakMb < 300 },
      note: `VmHWM of the issuance process, restarted before the batch (RSS at start ${(before.rssKb / 1024).toFixed(0)} MB)`,
    },
    {
      scenario,
      measure: `${label}-ticket batch: generation rate`,
      value: bigBatchQuantity / big.generationSeconds,
      unit: 'tickets/s',
      baseline: {
        label: 'generate_series insert',
        value: batchQuantity / baselineSeconds,
        unit: 'tickets/s',
      },
      ratio: ratio(bigBatchQuantity / big.generationSeconds, batchQuantity / baselineSeconds),
      note: `started_at→completed_at ${big.generationSeconds.toFixed(1)} s; created beyond the API's 100,000 cap through holdBatch + the batch row, picked up by issuance's stranded-batch sweep`,
    },
  );
  checks.push(await batchTicketCheck(ctx, big.id, bigBatchQuantity));
  return {
    scenario,
    status: 'ok',
    figures,
    checks,
    details: {
      batch: {
        quantity: batchQuantity,
        seconds,
        server_seconds: serverSeconds,
        baseline_seconds: baselineSeconds,
      },
      big: {
        quantity: bigBatchQuantity,
        seconds_from_creation: big.seconds,
        generation_seconds: big.generationSeconds,
        peak_rss_mb: peakMb,
        rss_at_start_mb: before.rssKb / 1024,
      },
    },
  };
}

// ------------------------------------------------------------------ redemption

async function createScanTickets(ctx: BenchContext, count: number): Promise<string[]> {
  const op = operator(ctx.system);
  await op.allocateDirect(106, count);
  const perOrder = 500;
  const orders = Math.ceil(count / perOrder);
  const codes: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < orders) {
        const i = next++;
        const units = Math.min(perOrder, count - i * perOrder);
        const items = [];
        for (let left = units; left > 0; left -= 100)
          items.push({ customer_type: 'adult', quantity: Math.min(100, left) });
        const order = await op.directOrder(106, visitDate(1), items);
        for (const t of order.tickets) codes.push(t.ticket_code);
      }
    }),
  );
  return codes;
}

async function waitForProjection(ctx: BenchContext, codes: string[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await ctx.env.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM redemption.tickets WHERE ticket_code = ANY($1::text[])`,
      [codes],
    );
    if (rows[0]!.n === codes.length) return (performance.now() - started) / 1000;
    if (Date.now() > deadline) {
      throw new Error(
        `redemption's projection has ${rows[0]!.n} of ${codes.length} tickets after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits, inside a scenario, for the backlog its last phase left (outbox rows, unhandled events), so the
 * next phase measures its own load; returns how long that took, for the figure's note.
 */
async function settleBetweenPhases(ctx: BenchContext, scenario: string, before: string): Promise<string> {
  const text = describeSettled(await settle(ctx.env, settleTimeoutMs(ctx.quick)));
  ctx.log(`${scenario}: before ${before}, ${text}`);
  return text;
}

export async function redemption(ctx: BenchContext, baseline: UpdateBaseline): Promise<ScenarioOutcome> {
  const scenario = 'Redemption (POST /venue/redeem)';
  const connections = 100;
  ctx.log(`${scenario}: issuing ${ctx.sizes.redemptionTickets} tickets (direct orders)`);
  const codes = await createScanTickets(ctx, ctx.sizes.redemptionTickets);
  const projectionSeconds = await waitForProjection(ctx, codes, 120_000);
  const { rows: fnRows } = await ctx.env.pool.query<{ function_code: string }>(
    `SELECT function_code FROM inventory.product_functions WHERE product_id = 106 ORDER BY position`,
  );
  const functions = fnRows.map((r) => r.function_code);
  // Every scan a distinct (ticket, entitlement): first every ticket's first entitlement, then the second…
  let cursor = 0;
  const totalScans = codes.length * functions.length;
  const nextScan = () => {
    if (cursor >= totalScans) return undefined;
    const i = cursor++;
    const code = codes[i % codes.length]!;
    const fn = functions[Math.floor(i / codes.length)]!;
    return JSON.stringify({
      ticket_code: code,
      function_code: fn,
      session_code: 'BENCH-0930',
      nonce: `bench-${i}`,
    });
  };
  const device = await operator(ctx.system).createDevice('Bench pier', 'Bench gate');
  const headers = { authorization: `Bearer ${device.device_key}` };
  // 100 scanners posting distinct scans to `url`, as fast as answered or at `overallRate`.
  const scanLoad = (url: string, overallRate?: number) =>
    exactHttpLoad({
      url,
      method: 'POST',
      connections,
      durationS: ctx.sizes.durationS,
      headers,
      nextBody: nextScan,
      ...(overallRate ? { overallRate } : {}),
      isOk: (s) => s === 200,
    });
  const url = `${ctx.system.gateway}/venue/redeem`;
  ctx.log(`${scenario}: ${connections} scanners, as fast as answered, ${ctx.sizes.durationS} s`);
  const peakCpu = await withCpu(ctx, 'redemption', () => scanLoad(url), { unit: 'scan' });
  const peak = peakCpu.result;
  const half = Math.max(1, Math.floor(peak.rate / 2));
  // What the peak's scans still cost after their answers: the events they left (redemption's outbox,
  // issuance applying each scan to its ticket), drained with the machine's CPU accounted, per peak scan.
  // The half-peak run then starts on a settled system: the target's figure is the steady half-peak load
  // (its own events applied as they arrive), not a recovery from the peak's overload.
  const drainCpu = cpuAccount(benchProcesses(ctx));
  const settledAfterPeak = await settleBetweenPhases(ctx, scenario, 'the half-peak run');
  const drain = drainCpu.end(peak.total, 'peak scan');
  ctx.log(`${scenario}: the peak's backlog cost ${drain.text}`);
  ctx.log(
    `${scenario}: ${connections} scanners at ${half} scans/s (half the peak), ${ctx.sizes.durationS} s`,
  );
  const pacedCpu = await withCpu(ctx, 'redemption', () => scanLoad(url, half), { unit: 'scan' });
  const paced = pacedCpu.result;
  // The floors are compared with the raw UPDATE, which ran on a quiet machine: each starts settled too.
  const settledBeforeDirect = await settleBetweenPhases(ctx, scenario, 'the direct floor');
  // Two floors, in the same run, from the same supply of scans. What a scan costs without the gateway's
  // hop (the contract lets scanners call redemption directly, and it checks their keys itself), and what
  // its decision alone costs: redemption's own `redeem` (the one statement, redeem_scan) from Node pg,
  // no HTTP at all.
  ctx.log(`${scenario}: floor, redemption directly (no gateway), ${connections} scanners`);
  const directCpu = await withCpu(
    ctx,
    'redemption',
    () => scanLoad(`${ctx.system.url('redemption')}/venue/redeem`),
    {
      unit: 'scan',
    },
  );
  const direct = directCpu.result;
  const settledBeforeStatement = await settleBetweenPhases(ctx, scenario, 'the statement floor');
  const statementConnections = await connectionBudget(ctx.env.pool, connections);
  ctx.log(`${scenario}: floor, the scan's statement from Node pg, ${statementConnections} connections`);
  const statementPool = ctx.env.newPool(statementConnections, 'bench-redeem-statement');
  const statementCpu = cpuAccount(benchProcesses(ctx));
  const statementRun = await workerLoad({
    concurrency: statementConnections,
    durationS: ctx.sizes.durationS,
    op: async () => {
      const scan = nextScan();
      if (scan === undefined) return 'stop';
      const body = JSON.parse(scan) as { ticket_code: string; function_code: string; nonce: string };
      const result = await redeem(
        {
          pool: statementPool,
          // Every ticket is in the projection (waited for above): asking issuance would be a bug here.
          source: () => Promise.reject(new Error('the projection lacked a bench ticket')),
          qrSigningKey: ctx.system.secrets.qrKey,
        },
        {
          device: { deviceId: device.device_id },
          ticketCode: body.ticket_code,
          functionCode: body.function_code,
          sessionCode: 'BENCH-0930',
          nonce: body.nonce,
        },
      );
      return result.status === 200 ? true : { failed: String(result.outcome) };
    },
  })
    // Accounted before the pool closes: the PostgreSQL backends that serve it must still be there to count.
    .then((load) => ({ load, cpu: statementCpu.end(load.total, 'scan') }))
    .finally(() => statementPool.end());
  const statement = statementRun.load;
  const statementCpuText = statementRun.cpu.text;
  const ranOut = cursor >= totalScans;
  const runs = [peak, paced, direct, statement];
  const accepted = runs.reduce((n, r) => n + r.ok, 0);
  const base = baseline.result;
  const figures: Figure[] = [
    {
      scenario,
      measure: `peak scans/s, ${connections} scanners`,
      value: peak.rate,
      unit: 'scans/s',
      baseline: { label: `raw 1-row UPDATE, ${baseline.connections} conns`, value: base.rate, unit: 'upd/s' },
      ratio: ratio(peak.rate, base.rate),
      target: { text: 'ratio >= 0.25', met: ratio(peak.rate, base.rate) >= 0.25 },
      note: `CPU per scan: ${peakCpu.cpu.text}; per raw UPDATE: ${baseline.cpu.text}`,
    },
    {
      scenario,
      measure: 'peak p50 / p99',
      value: peak.p50,
      unit: 'ms',
      baseline: { label: 'raw UPDATE p50', value: base.p50, unit: 'ms' },
      ratio: ratio(peak.p50, base.p50),
      note: `p99 ${peak.p99.toFixed(2)} ms (raw UPDATE p99 ${base.p99.toFixed(2)} ms)`,
    },
    {
      scenario,
      measure: `p99 at half peak (${half}/s)`,
      value: paced.p99,
      unit: 'ms',
      baseline: { label: 'raw UPDATE p99', value: base.p99, unit: 'ms' },
      ratio: ratio(paced.p99, base.p99),
      target: {
        text: 'p99 <= 20 ms and <= raw UPDATE p99',
        met: paced.p99 <= 20 && paced.p99 <= base.p99,
      },
      note: `p50 ${paced.p50.toFixed(2)} ms, achieved ${paced.rate.toFixed(0)} scans/s, started once the peak's backlog was applied (${settledAfterPeak}). CPU per scan, its events applied as they came: ${pacedCpu.cpu.text}`,
    },
    {
      scenario,
      measure: "CPU per scan after its answer (the peak's events applied)",
      value: drain.perOp.machine!,
      unit: 'µs',
      baseline: { label: 'CPU per scan while answered, peak', value: peakCpu.cpu.perOp.machine!, unit: 'µs' },
      ratio: ratio(drain.perOp.machine!, peakCpu.cpu.perOp.machine!),
      note: drain.text,
    },
    {
      scenario,
      measure: `floor: redemption directly (no gateway), ${connections} scanners`,
      value: direct.rate,
      unit: 'scans/s',
      baseline: { label: `raw 1-row UPDATE, ${baseline.connections} conns`, value: base.rate, unit: 'upd/s' },
      ratio: ratio(direct.rate, base.rate),
      note: `p50 ${direct.p50.toFixed(2)} ms, p99 ${direct.p99.toFixed(2)} ms; through the gateway: ${ratio(peak.rate, direct.rate).toFixed(2)} of this. CPU per scan: ${directCpu.cpu.text}`,
    },
    {
      scenario,
      measure: `floor: the scan's statement alone (redeem from Node pg), ${statementConnections} conns`,
      value: statement.rate,
      unit: 'scans/s',
      baseline: { label: `raw 1-row UPDATE, ${baseline.connections} conns`, value: base.rate, unit: 'upd/s' },
      ratio: ratio(statement.rate, base.rate),
      note: `p50 ${statement.p50.toFixed(2)} ms, p99 ${statement.p99.toFixed(2)} ms: the decision without HTTP (nonce, lock, checks, redemption, USED, outbox, scan record in one statement). CPU per scan: ${statementCpuText}`,
    },
  ];
  const checks = [
    {
      name: 'every scan accepted (200)',
      ok: runs.every((r) => r.ok === r.total && r.errors === 0),
      detail: `peak failures ${JSON.stringify(peak.failures)}; paced ${JSON.stringify(paced.failures)}; direct ${JSON.stringify(direct.failures)}; statement ${JSON.stringify(statement.failures)}; errors ${runs.reduce((n, r) => n + r.errors, 0)}`,
    },
    {
      name: 'scan supply lasted the whole run',
      ok: !ranOut,
      detail: `${cursor} of ${totalScans} (ticket, entitlement) pairs used`,
    },
  ];
  const { rows: redeemed } = await ctx.env.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM redemption.redemptions WHERE ticket_code = ANY($1::text[])`,
    [codes],
  );
  checks.push({
    name: 'redemptions recorded = scans accepted',
    ok: redeemed[0]!.n === accepted,
    detail: `rows ${redeemed[0]!.n}, accepted ${accepted}`,
  });
  return {
    scenario,
    status: 'ok',
    figures,
    checks,
    details: {
      tickets: codes.length,
      projection_catch_up_s: projectionSeconds,
      peak: loadSummary(peak),
      paced: { ...loadSummary(paced), target_rate: half, settled_first: settledAfterPeak },
      cpu_account_us: {
        peak_per_scan: peakCpu.cpu.perOp,
        after_answer_per_peak_scan: drain.perOp,
        paced_per_scan: pacedCpu.cpu.perOp,
      },
      settled_before_floors: { direct: settledBeforeDirect, statement: settledBeforeStatement },
      direct: loadSummary(direct),
      statement: { ...loadSummary(statement), connections: statementConnections },
      baseline: { ...loadSummary(base), connections: baseline.connections },
    },
  };
}

// ------------------------------------------------------------------ ticket query

export async function ticketQuery(
  ctx: BenchContext,
): Promise<{ outcome: ScenarioOutcome; partnerId: string }> {
  const scenario = 'Ticket query (GET /api/ota/tickets, filters)';
  const n = ctx.sizes.queryTickets;
  const partner = await createBenchPartner(ctx.system, ctx.env, 'Bench query partner');
  ctx.log(`${scenario}: seeding ${n.toLocaleString('en-US')} tickets directly into issuance.tickets`);
  const batchIds = Array.from({ length: 10 }, () => crypto.randomUUID());
  const resellerIds = Array.from({ length: 5 }, () => crypto.randomUUID());
  const seedStarted = performance.now();
  // Spread the rows the way a long-lived partner's are: products, statuses, channels, batches, resellers
  // and a year of creation times.
  const sql = await ticketInsertSql(ctx.env.pool, 'issuance.tickets', {
    count: '$1::int',
    partnerId: partner.partner_id,
    batchId: null,
    productId: 106,
    overrides: {
      product_id: '(106 + g % 3)',
      status: `(ARRAY['PRE_GENERATED','ACTIVE','ACTIVE','USED','CANCELLED','EXPIRED'])[1 + g % 6]`,
      channel: `(CASE WHEN g % 4 = 0 THEN 'ota' ELSE 'reseller' END)`,
      batch_id: '(CASE WHEN g % 4 = 0 THEN NULL ELSE ($2::uuid[])[1 + g % 10] END)',
      batch_seq: '(CASE WHEN g % 4 = 0 THEN NULL ELSE g END)',
      reseller_id: '(CASE WHEN g % 4 = 0 THEN NULL ELSE ($3::uuid[])[1 + g % 5] END)',
      created_at: `now() - make_interval(secs => (g::double precision / $1::int) * 365 * 86400)`,
    },
  });
  await ctx.env.pool.query(sql, [n, batchIds, resellerIds]);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  // What autovacuum does to a production table after a bulk insert (an insert-only table is vacuumed
  // once its new rows pass autovacuum_vacuum_insert_threshold/scale_factor): statistics and the
  // visibility map. Without the map every "index-only" count reads the heap too, which a table that
  // autovacuum has visited does not; the figures below are for the visited table.
  const vacuumStarted = performance.now();
  await ctx.env.pool.query('VACUUM (ANALYZE) issuance.tickets');
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;

  const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  const queries = [
    `status=ACTIVE`,
    `product_id=107&created_from=${day(90)}&created_to=${day(60)}`,
    `status=PRE_GENERATED&reseller_id=${resellerIds[0]}`,
    `batch_id=${batchIds[3]}&page=3`,
    `created_from=${day(200)}&created_to=${day(199)}&page_size=100`,
    `status=USED&product_id=108&page=20`,
    `reseller_id=${resellerIds[2]}&created_from=${day(30)}`,
  ];
  const connections = 16;
  ctx.log(
    `${scenario}: ${queries.length} filter mixes, ${connections} connections, ${ctx.sizes.durationS} s`,
  );
  const results: LoadResult[] = [];
  const accounts: CpuAccount[] = [];
  // One run per filter mix keeps each query's latency visible; their union gives the overall p99.
  const perQuery = Math.max(1, Math.round(ctx.sizes.durationS / 2));
  for (const q of queries) {
    const run = await withCpu(ctx, 'issuance', () =>
      httpLoad({
        url: `${ctx.system.gateway}/api/ota/tickets?${q}`,
        connections,
        durationS: perQuery,
        headers: { authorization: `Bearer ${partner.api_key}` },
      }),
    );
    results.push(run.result);
    accounts.push(run.cpu);
  }
  const worst = results.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  const worstQuery = queries[results.indexOf(worst)]!;
  const worstCpu = accounts[results.indexOf(worst)]!;
  const worstPlan = await explainTicketList(ctx, partner.partner_id, worstQuery);
  ctx.log(`${scenario}: the worst mix (${worstQuery}) is planned as ${worstPlan.summary}`);

  // Depth: page 1 of the whole list, then a cursor page half-way down (the cursor is the next_cursor
  // of the offset page ending there, read once); both the same page size, the same connections.
  const pageSize = 50;
  const depthPage = Math.max(1, Math.floor(n / 2 / pageSize));
  const auth = { authorization: `Bearer ${partner.api_key}` };
  const deep = expectStatus(
    await call('GET', `${ctx.system.gateway}/api/ota/tickets?page=${depthPage}&page_size=${pageSize}`, {
      headers: auth,
      timeoutMs: 60_000,
    }),
    200,
    'offset page to start the deep cursor',
  );
  const depth = depthPage * pageSize;
  ctx.log(`${scenario}: page 1 and a cursor page at depth ${depth.toLocaleString('en-US')}`);
  const firstPage = await httpLoad({
    url: `${ctx.system.gateway}/api/ota/tickets?page_size=${pageSize}`,
    connections,
    durationS: perQuery,
    headers: auth,
  });
  const deepCursor = await httpLoad({
    url: `${ctx.system.gateway}/api/ota/tickets?page_size=${pageSize}&cursor=${deep.next_cursor}`,
    connections,
    durationS: perQuery,
    headers: auth,
  });
  // The database's own cost of the same question (the contract's semantics: the partner's rows
  // matching the filters, newest first, one page, and a total counted up to 10,000), run directly.
  ctx.log(`${scenario}: the worst mix as raw SQL, ${connections} clients`);
  const raw = await rawTicketQuery(ctx, partner.partner_id, worstQuery, connections, perQuery);
  // The same at one connection: the query's own latency, without 16 requests queueing for 2 cores
  // (the machine runs PostgreSQL, the gateway, issuance and this load generator on them).
  ctx.log(`${scenario}: the worst mix through the gateway and as raw SQL, 1 connection`);
  const single = await httpLoad({
    url: `${ctx.system.gateway}/api/ota/tickets?${worstQuery}`,
    connections: 1,
    durationS: perQuery,
    headers: { authorization: `Bearer ${partner.api_key}` },
  });
  const rawSingle = await rawTicketQuery(ctx, partner.partner_id, worstQuery, 1, perQuery);
  const allOk = [...results, firstPage, deepCursor, single].every((r) => r.ok === r.total && r.errors === 0);
  const totalRate = results.reduce((s, r) => s + r.ok, 0) / results.reduce((s, r) => s + r.durationS, 0);
  const figures: Figure[] = [
    {
      scenario,
      measure: `p99, worst filter mix (${n.toLocaleString('en-US')} tickets)`,
      value: worst.p99,
      unit: 'ms',
      baseline: { label: 'same filters, raw SQL', value: raw.p99, unit: 'ms' },
      ratio: ratio(worst.p99, raw.p99),
      target: { text: 'p99 <= 50 ms', met: worst.p99 <= 50 },
      note: `${worstQuery}; plan: ${worstPlan.summary}. CPU per request: ${worstCpu.text}; raw SQL, per query: ${raw.cpu.text}`,
    },
    {
      scenario,
      measure: 'p50, worst filter mix',
      value: worst.p50,
      unit: 'ms',
      baseline: { label: 'same filters, raw SQL', value: raw.p50, unit: 'ms' },
      ratio: ratio(worst.p50, raw.p50),
    },
    {
      scenario,
      measure: 'p99, worst filter mix, 1 connection',
      value: single.p99,
      unit: 'ms',
      baseline: { label: 'same filters, raw SQL, 1 conn', value: rawSingle.p99, unit: 'ms' },
      ratio: ratio(single.p99, rawSingle.p99),
      target: { text: 'p99 <= 50 ms', met: single.p99 <= 50 },
      note: `p50 ${single.p50.toFixed(2)} ms (raw SQL p50 ${rawSingle.p50.toFixed(2)} ms)`,
    },
    { scenario, measure: `throughput, ${connections} conns`, value: totalRate, unit: 'req/s' },
    { scenario, measure: 'p99, page 1 (no filter)', value: firstPage.p99, unit: 'ms' },
    {
      scenario,
      measure: `p99, cursor page at depth ${depth.toLocaleString('en-US')} (no filter)`,
      value: deepCursor.p99,
      unit: 'ms',
      baseline: { label: 'page 1, same list', value: firstPage.p99, unit: 'ms' },
      ratio: ratio(deepCursor.p99, firstPage.p99),
    },
  ];
  return {
    partnerId: partner.partner_id,
    outcome: {
      scenario,
      status: 'ok',
      figures,
      checks: [
        {
          name: 'every query answered 200',
          ok: allOk,
          detail: results.map((r) => JSON.stringify(r.failures)).join(' '),
        },
      ],
      details: {
        seeded: n,
        seed_seconds: seedSeconds,
        vacuum_analyze_seconds: vacuumSeconds,
        queries: Object.fromEntries(queries.map((q, i) => [q, loadSummary(results[i]!)])),
        worst_mix_one_connection: loadSummary(single),
        worst_mix_plan: worstPlan,
        page_1: loadSummary(firstPage),
        [`cursor_at_${depth}`]: loadSummary(deepCursor),
        raw_sql_worst_mix: loadSummary(raw),
        cpu_account_us: { worst_mix_per_request: worstCpu.perOp, raw_sql_per_query: raw.cpu.perOp },
      },
    },
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/**
 * EXPLAIN (ANALYZE) of the statement the route runs for a query string, once: how each of its two
 * scans of tickets (the capped total's, then the page's) reads, and how many heap rows the
 * "index-only" one still visited.
 */
async function explainTicketList(ctx: BenchContext, partnerId: string, query: string) {
  const q = ticketListQuery.parse(Object.fromEntries(new URLSearchParams(query)));
  const resolved = ticketListOrder(q).request(q);
  if (!resolved.ok) throw new Error(resolved.detail);
  const statement = ticketListSql(partnerId, q, resolved.request);
  const { rows } = await ctx.env.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.text}`,
    statement.values,
  );
  const plan = rows[0]!['QUERY PLAN'][0];
  const scans: PlanNode[] = [];
  const visit = (node: PlanNode) => {
    if (node['Relation Name'] === 'tickets') scans.push(node);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan.Plan);
  const described = scans.map((s, i) => ({
    part: i === 0 ? 'total' : 'page',
    node: s['Node Type'],
    index: s['Index Name'] ?? null,
    rows: s['Actual Rows'] ?? null,
    heap_fetches: s['Heap Fetches'] ?? null,
  }));
  return {
    summary: described
      .map(
        (d) =>
          `${d.part}: ${d.node}${d.index ? ` ${d.index}` : ''}${d.heap_fetches !== null ? ` (heap fetches ${d.heap_fetches})` : ''}`,
      )
      .join('; '),
    scans: described,
    execution_ms: plan['Execution Time'],
  };
}

/** The list query a partner's filters ask for, as plain SQL on the same table and indexes. */
async function rawTicketQuery(
  ctx: BenchContext,
  partnerId: string,
  query: string,
  concurrency: number,
  durationS: number,
): Promise<LoadResult & { cpu: CpuAccount }> {
  const params = new URLSearchParams(query);
  const where = ['partner_id = $1'];
  const values: unknown[] = [partnerId];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (params.get('status')) add('status = ?', params.get('status'));
  if (params.get('product_id')) add('product_id = ?', Number(params.get('product_id')));
  if (params.get('reseller_id')) add('reseller_id = ?', params.get('reseller_id'));
  if (params.get('batch_id')) add('batch_id = ?', params.get('batch_id'));
  if (params.get('reservation_id')) add('reservation_id = ?', params.get('reservation_id'));
  if (params.get('created_from')) add('created_at >= ?', params.get('created_from'));
  if (params.get('created_to')) add('created_at < ?', params.get('created_to'));
  const pageSize = Number(params.get('page_size') ?? 50);
  const offset = (Number(params.get('page') ?? 1) - 1) * pageSize;
  const filter = where.join(' AND ');
  // The list's order as the indexes are built (DESC NULLS LAST; a batch by its sequence): a plain
  // `created_at DESC` cannot read a DESC NULLS LAST index in order and sorted every match (5-8 s).
  const order = params.get('batch_id') ? 'batch_seq DESC' : 'created_at DESC NULLS LAST, id DESC NULLS LAST';
  const pageSql = `SELECT * FROM issuance.tickets WHERE ${filter} ORDER BY ${order} LIMIT ${pageSize} OFFSET ${offset}`;
  const totalSql = `SELECT count(*) FROM (SELECT 1 FROM issuance.tickets WHERE ${filter} LIMIT 10001) capped`;
  const clients = ctx.env.newPool(Math.min(concurrency, 16), 'bench-raw-query');
  try {
    const account = cpuAccount(benchProcesses(ctx));
    const load = await workerLoad({
      concurrency,
      durationS,
      op: async () => {
        await clients.query(pageSql, values);
        await clients.query(totalSql, values);
        return true;
      },
    });
    // Accounted before the pool closes, while its PostgreSQL backends are still there to count.
    return { ...load, cpu: account.end(load.total, 'query') };
  } finally {
    await clients.end();
  }
}

export type { ServiceName };
