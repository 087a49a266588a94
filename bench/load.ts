// Load generators with a fixed number of concurrent clients: HTTP through autocannon (closed loop, or a
// fixed overall rate), and any async operation (the raw-database baselines) through a small worker loop.
// Latencies are recorded per request with sub-millisecond resolution (autocannon's own histogram keeps
// whole milliseconds, too coarse for a 1 ms overhead target).
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface LoadResult {
  /** Completed operations (any outcome). */
  total: number;
  /** Operations that counted as successful. */
  ok: number;
  /** Failures by HTTP status, or by error text for non-HTTP operations. */
  failures: Record<string, number>;
  /** Network errors and timeouts. */
  errors: number;
  durationS: number;
  /** Successful operations per second. */
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Latencies in milliseconds, kept compactly (a 20 s run can record a few hundred thousand). */
export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private n = 0;
  record(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }
  get count(): number {
    return this.n;
  }
  percentiles(): { p50: number; p90: number; p99: number; max: number } {
    if (this.n === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const sorted = this.values.slice(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)]!;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[this.n - 1]! };
  }
}

export interface HttpLoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** A fresh body per request (e.g. one ticket per scan); returning undefined stops sending. */
  nextBody?: () => string | undefined;
  /** Requests per second across all connections (open loop); omitted = as fast as responses come. */
  overallRate?: number;
  /** Which statuses count as success (default 2xx). */
  isOk?: (status: number) => boolean;
  timeoutS?: number;
}

export async function httpLoad(opts: HttpLoadOptions): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const isOk = opts.isOk ?? ((s: number) => s >= 200 && s < 300);
  let ok = 0;
  let total = 0;
  let exhausted = false;
  const started = process.hrtime.bigint();
  const options = {
    url: opts.url,
    connections: opts.connections,
    duration: opts.durationS,
    method: opts.method ?? 'GET',
    headers: {
      ...(opts.body || opts.nextBody ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body,
    timeout: opts.timeoutS ?? 10,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    ...(opts.nextBody
      ? {
          requests: [
            {
              setupRequest: (req: Record<string, unknown>) => {
                const body = opts.nextBody!();
                if (body === undefined) {
                  exhausted = true;
                  return undefined as never;
                }
                req.body = body;
                return req;
              },
            },
          ],
        }
      : {}),
  } as autocannon.Options;
  let finish!: (r: autocannon.Result) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(options, (err, result) => (err ? fail(err) : finish(result)));
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    total++;
    latencies.record(responseTime);
    if (isOk(statusCode)) ok++;
    else failures[String(statusCode)] = (failures[String(statusCode)] ?? 0) + 1;
  });
  // With a body source that runs dry, stop as soon as it does instead of spinning on resets.
  const poll = setInterval(() => {
    if (exhausted) instance.stop();
  }, 50);
  const result = await done.finally(() => clearInterval(poll));
  const durationS = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    total,
    ok,
    failures,
    errors: result.errors + result.timeouts,
    durationS,
    rate: ok / durationS,
    ...latencies.percentiles(),
  };
}

/**
 * Runs `op` from `concurrency` workers for `durationS` (or until `op` returns 'stop'); `op` resolves
 * true for a success, false for an expected refusal, and throws for an error.
 */
export async function workerLoad(opts: {
  concurrency: number;
  durationS: number;
  /** `markStart()` moves the latency clock's start (after a pacing wait). */
  op: (worker: number, markStart: () => void) => Promise<boolean | 'stop' | { failed: string }>;
}): Promise<LoadResult> {
  const latencies = new LatencyRecorder();
  const failures: Record<string, number> = {};
  let ok = 0;
  let total = 0;
  let errors = 0;
  let stop = false;
  const started = performance.now();
  const deadline = started + opts.durationS * 1000;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, worker) => {
      while (!stop && performance.now() < deadline) {
        let t = performance.now();
        try {
          const outcome = await opts.op(worker, () => {
            t = performance.now();
          });
          if (outcome === 'stop') {
            stop = true;
            break;
          }
          total++;
          latencies.record(performance.now() - t);
          if (outcome === true) ok++;
          else {
            const key = outcome === false ? 'refused' : outcome.failed;
            failures[key] = (failures[key] ?? 0) + 1;
          }
        } catch (err) {
          errors++;
          const key = (err as { code?: string }).code ?? (err as Error).message.slice(0, 60);
          failures[key] = (failures[key] ?? 0) + 1;
          if (errors > 1000 && ok === 0) throw err;
        }
      }
    }),
  );
  const durationS = (performance.now() - started) / 1000;
  return { total, ok, failures, errors, durationS, rate: ok / durationS, ...latencies.percentiles() };
}

/**
 * HTTP load from `connections` workers over keep-alive connections, where every request sent is also
 * answered and counted before the run ends (autocannon drops the requests in flight when its time is
 * up; a state-changing scenario needs exact counts: each 201 is a hold the pool must show).
 * With `overallRate`, requests are paced to that many per second in total (latency is measured from
 * the moment a request is sent).
 *
 * Requests go through undici's own `request` over a pool of `connections` sockets rather than
 * `fetch()`: the bench shares the machine's 2 cores with the system it measures, and fetch's WHATWG
 * streams and per-request abort timer cost several times more CPU per request (bench/cpu.ts counted
 * 245-484 µs per scan for the load generator with fetch; autocannon's GET costs about 40).
 */
export async function exactHttpLoad(opts: HttpLoadOptions): Promise<LoadResult> {
  const isOk = opts.isOk ?? ((s: number) => s >= 200 && s < 300);
  const headers = {
    ...(opts.body || opts.nextBody ? { 'content-type': 'application/json' } : {}),
    ...opts.headers,
  };
  const url = new URL(opts.url);
  const path = `${url.pathname}${url.search}`;
  const timeout = (opts.timeoutS ?? 10) * 1000;
  const pool = new Pool(url.origin, { connections: opts.connections });
  const rate = opts.overallRate;
  let sent = 0;
  const started = performance.now();
  try {
    return await workerLoad({
      concurrency: opts.connections,
      durationS: opts.durationS,
      op: async (_worker, markStart) => {
        const body = opts.nextBody ? opts.nextBody() : opts.body;
        if (opts.nextBody && body === undefined) return 'stop';
        if (rate) {
          const slot = started + (sent++ * 1000) / rate;
          const wait = slot - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          markStart();
        }
        const res = await pool.request({
          path,
          method: opts.method ?? 'GET',
          headers,
          body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        await res.body.dump();
        return isOk(res.statusCode) ? true : { failed: String(res.statusCode) };
      },
    });
  } finally {
    await pool.close();
  }
}
