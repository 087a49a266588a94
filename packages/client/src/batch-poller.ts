// Waits for a bulk-generation batch, reporting progress (generated, rate, ETA) after every poll. Polls
// no faster than the server's Retry-After asks, and waits it out on 429/503 instead of failing.
import { ApiError } from './api-error.ts';
import { type CruiseClient, sleep } from './client.ts';
import type { components } from './generated/openapi.ts';

export type Batch = components['schemas']['Batch'];

export interface BatchProgress {
  batch: Batch;
  generated: number;
  quantity: number;
  /** Tickets per second over the last few polls; null until two polls have seen it move. */
  rate: number | null;
  /** Seconds left at that rate; null while the rate is unknown. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

export interface WaitForBatchOptions {
  /** Time between polls (ms), unless the server asks for longer with Retry-After. Default 1000. */
  intervalMs?: number;
  onProgress?: (progress: BatchProgress) => void;
  signal?: AbortSignal;
}

/** A batch that ended FAILED; `batch.error` says why. */
export class BatchFailedError extends Error {
  override name = 'BatchFailedError';
  readonly batch: Batch;
  constructor(batch: Batch) {
    super(`batch ${batch.batch_id} failed: ${batch.error ?? 'no reason given'}`);
    this.batch = batch;
  }
}

/** How far back the rate looks: long enough to smooth chunk steps, short enough to follow changes. */
const RATE_WINDOW_MS = 10_000;

/** Polls `GET /api/ota/batches/{id}` until COMPLETED (returned) or FAILED (BatchFailedError). */
export async function waitForBatch(
  client: CruiseClient,
  batchId: string,
  opts: WaitForBatchOptions = {},
): Promise<Batch> {
  const interval = opts.intervalMs ?? 1000;
  const started = Date.now();
  const samples: { at: number; generated: number }[] = [];
  for (;;) {
    const { data, error, response } = await client.GET('/api/ota/batches/{batch_id}', {
      params: { path: { batch_id: batchId } },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!response.ok) {
      const refusal = new ApiError(response.status, error, response.headers);
      if (response.status !== 429 && response.status !== 503) throw refusal;
      await sleep(Math.max(interval, (refusal.retryAfter ?? 1) * 1000), opts.signal);
      continue;
    }
    const batch = data!;
    const now = Date.now();
    samples.push({ at: now, generated: batch.generated });
    while (samples.length > 2 && now - samples[0]!.at > RATE_WINDOW_MS) samples.shift();
    opts.onProgress?.(progressOf(batch, samples, (now - started) / 1000));
    if (batch.status === 'COMPLETED') return batch;
    if (batch.status === 'FAILED') throw new BatchFailedError(batch);
    const told = Number(response.headers.get('retry-after'));
    await sleep(Math.max(interval, Number.isFinite(told) ? told * 1000 : 0), opts.signal);
  }
}

function progressOf(
  batch: Batch,
  samples: { at: number; generated: number }[],
  elapsed: number,
): BatchProgress {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const moved = last.generated - first.generated;
  let rate = moved > 0 && last.at > first.at ? (moved * 1000) / (last.at - first.at) : null;
  // Once done, the server's own clock gives the batch's true average (polls only bound it from below).
  const took = batch.completed_at ? Date.parse(batch.completed_at) - Date.parse(batch.created_at) : 0;
  if (batch.status === 'COMPLETED' && took > 0) rate = (batch.generated * 1000) / took;
  const left = batch.quantity - batch.generated;
  return {
    batch,
    generated: batch.generated,
    quantity: batch.quantity,
    rate,
    etaSeconds: left <= 0 ? 0 : rate ? left / rate : null,
    elapsedSeconds: elapsed,
  };
}
