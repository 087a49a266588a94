// Bench scenario: partner webhooks. 10,000 events (quick: 1,000) of one partner fanned out to 10
// receivers (node:http servers in this process), i.e. 100,000 deliveries through the notifications
// service's dispatcher, next to a baseline of the same number of raw HTTP POSTs of the same body from
// this process to the same receivers, with the dispatcher's own parallelism (per-endpoint limit × 10).
// Events are written into inventory's outbox exactly as the services write them (appendPartnerEvents,
// 100 per message, as a batch expiry does), so the relay, JetStream, the consumer, storage, fan-out and
// delivery are all measured. Phase 1 (burst): all events committed at once → deliveries/s. Phase 2
// (paced, at half the measured rate): delivery lag p50/p99 from the source commit to the receiver.
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendPartnerEvents, type PoolClient } from '@cruise/shared';
import { call, expectStatus } from '../test/resilience/system.ts';
import { cpuAccount } from './cpu.ts';
import type { Figure, ScenarioOutcome } from './report.ts';
import { type BenchContext, benchProcesses } from './scenarios.ts';

const RECEIVERS = 10;
/** The dispatcher's WEBHOOK_CONCURRENCY_PER_ENDPOINT default: the baseline gets the same parallelism. */
const PER_ENDPOINT = 4;
const EVENTS_PER_MESSAGE = 100;

interface Receivers {
  urls: string[];
  /** Distinct webhook-ids received per receiver, and the lag (ms) of each first receipt. */
  seen: Set<string>[];
  lags: number[];
  posts: number;
  reset(): void;
  close(): Promise<void>;
}

async function startReceivers(): Promise<Receivers> {
  const servers: Server[] = [];
  const r: Receivers = {
    urls: [],
    seen: [],
    lags: [],
    posts: 0,
    reset() {
      for (const s of r.seen) s.clear();
      r.lags = [];
      r.posts = 0;
    },
    async close() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
  for (let i = 0; i < RECEIVERS; i++) {
    const seen = new Set<string>();
    r.seen.push(seen);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        r.posts++;
        const id = String(req.headers['webhook-id'] ?? '');
        if (id && !seen.has(id)) {
          seen.add(id);
          const createdAt = /"created_at":\s*"([^"]+)"/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
          if (createdAt) r.lags.push(Date.now() - Date.parse(createdAt));
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    r.urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  }
  return r;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Commits `count` allocation.updated events of the partner, EVENTS_PER_MESSAGE per outbox message. */
async function commitEvents(ctx: BenchContext, count: number, offset: number): Promise<void> {
  const client = (await ctx.env.pool.connect()) as unknown as PoolClient;
  try {
    for (let i = 0; i < count; i += EVENTS_PER_MESSAGE) {
      const n = Math.min(EVENTS_PER_MESSAGE, count - i);
      await client.query('BEGIN');
      await appendPartnerEvents(
        client,
        'inventory',
        Array.from({ length: n }, (_, k) => ({
          type: 'allocation.updated' as const,
          partnerId: ctx.partner.partner_id,
          data: {
            pool: {
              product_id: 106,
              channel: 'ota',
              partner_id: ctx.partner.partner_id,
              allocated: offset + i + k,
              held: 0,
              sold: 0,
              available: offset + i + k,
            },
          },
        })),
      );
      await client.query('COMMIT');
    }
  } finally {
    (client as unknown as { release(): void }).release();
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `total` raw POSTs of `body` spread over the receivers, PER_ENDPOINT in flight per receiver (keep-alive). */
async function rawPosts(urls: string[], total: number, body: string): Promise<number> {
  const started = performance.now();
  await Promise.all(
    urls.map(async (url) => {
      const u = new URL(url);
      const agent = new Agent({ keepAlive: true, maxSockets: PER_ENDPOINT });
      let left = Math.ceil(total / urls.length);
      let n = 0;
      const post = () =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            {
              host: u.hostname,
              port: u.port,
              path: u.pathname,
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                'webhook-id': `baseline-${n++}`,
              },
            },
            (res) => {
              res.resume();
              res.on('end', resolve);
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      await Promise.all(
        Array.from({ length: PER_ENDPOINT }, async () => {
          while (left > 0) {
            left--;
            await post();
          }
        }),
      );
      agent.destroy();
    }),
  );
  return (performance.now() - started) / 1000;
}

export async function webhookFanOut(ctx: BenchContext, eventCount: number): Promise<ScenarioOutcome> {
  const scenario = `Webhooks (${eventCount} events × ${RECEIVERS} receivers)`;
  const receivers = await startReceivers();
  try {
    for (const url of receivers.urls) {
      const res = await call('POST', `${ctx.system.gateway}/api/ota/webhooks`, {
        token: ctx.partner.api_key,
        body: { url, events: ['*'] },
      });
      expectStatus(res, 201, 'create webhook');
    }
    const deliveries = eventCount * RECEIVERS;
    const sampleBody = JSON.stringify({
      event_id: '00000000-0000-4000-8000-000000000000',
      type: 'allocation.updated',
      created_at: new Date().toISOString(),
      partner_id: ctx.partner.partner_id,
      revision: 1,
      data: {
        pool: {
          product_id: 106,
          channel: 'ota',
          partner_id: ctx.partner.partner_id,
          allocated: 1,
          held: 0,
          sold: 0,
          available: 1,
        },
      },
    });

    ctx.log(`${scenario}: baseline, ${deliveries} raw POSTs, ${PER_ENDPOINT} in flight per receiver`);
    const baselineAccount = cpuAccount(benchProcesses(ctx));
    const baselineS = await rawPosts(receivers.urls, deliveries, sampleBody);
    const baselineCpu = baselineAccount.end(deliveries, 'POST');
    const baselineRate = deliveries / baselineS;
    receivers.reset();

    ctx.log(`${scenario}: burst, ${eventCount} events committed at once`);
    const burstAccount = cpuAccount(benchProcesses(ctx));
    const burstStart = performance.now();
    await commitEvents(ctx, eventCount, 0);
    const all = () => receivers.seen.every((s) => s.size >= eventCount);
    await waitUntil(all, 600_000, 'every burst delivery');
    const burstS = (performance.now() - burstStart) / 1000;
    const burstCpu = burstAccount.end(deliveries, 'delivery');
    const rate = deliveries / burstS;
    const burstLagP99 = percentile(receivers.lags, 99);
    const burstPosts = receivers.posts;
    const burstComplete = all();

    // Paced: events at half the measured delivery rate (per receiver: rate / RECEIVERS events/s).
    const pacedEventsPerS = Math.max(10, Math.floor(rate / RECEIVERS / 2));
    const pacedCount = Math.min(eventCount, pacedEventsPerS * Math.max(5, ctx.sizes.durationS));
    ctx.log(`${scenario}: paced, ${pacedCount} events at ${pacedEventsPerS}/s`);
    receivers.reset();
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((pacedEventsPerS * tickMs) / 1000));
    const pacedStart = performance.now();
    for (let sent = 0; sent < pacedCount; sent += perTick) {
      const due = pacedStart + (sent / perTick) * tickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await commitEvents(ctx, Math.min(perTick, pacedCount - sent), eventCount + sent);
    }
    const pacedAll = () => receivers.seen.every((s) => s.size >= pacedCount);
    await waitUntil(pacedAll, 600_000, 'every paced delivery');
    const p50 = percentile(receivers.lags, 50);
    const p99 = percentile(receivers.lags, 99);

    const throughputRatio = rate / baselineRate;
    const figures: Figure[] = [
      {
        scenario,
        measure: 'deliveries/s (burst)',
        value: rate,
        unit: 'del/s',
        baseline: { label: `raw POSTs, ${PER_ENDPOINT}/receiver`, value: baselineRate, unit: 'POST/s' },
        ratio: throughputRatio,
        target: { text: 'ratio >= 0.5', met: throughputRatio >= 0.5 },
        note: `CPU per delivery: ${burstCpu.text}; per raw POST: ${baselineCpu.text}`,
      },
      {
        scenario,
        measure: `lag p50 (paced ${pacedEventsPerS} ev/s)`,
        value: p50,
        unit: 'ms',
      },
      {
        scenario,
        measure: `lag p99 (paced ${pacedEventsPerS} ev/s)`,
        value: p99,
        unit: 'ms',
        target: { text: 'p99 <= 1000 ms', met: p99 <= 1000 },
      },
      { scenario, measure: 'lag p99 (burst, queueing included)', value: burstLagP99, unit: 'ms' },
    ];
    return {
      scenario,
      status: 'ok',
      figures,
      checks: [
        {
          name: 'every event reached every receiver (dedupe by webhook-id)',
          ok: burstComplete && pacedAll(),
          detail: `burst: ${burstPosts} POSTs for ${deliveries} deliveries; paced: ${receivers.posts} POSTs for ${pacedCount * RECEIVERS}`,
        },
      ],
      details: {
        baseline_s: baselineS,
        burst_s: burstS,
        paced_events: pacedCount,
        paced_events_per_s: pacedEventsPerS,
        cpu_account_us: { per_delivery: burstCpu.perOp, per_raw_post: baselineCpu.perOp },
      },
    };
  } finally {
    await receivers.close();
  }
}
