// The dispatcher. First attempts go out in batches: a `drain` job per webhook claims its due first
// attempts DRAIN_BATCH at a time (a lease on the rows), sends them over as many keep-alive connections as
// the webhook's free slots allow, and records every attempt of the batch in one statement. Retries are
// one delayed job per attempt. Either way a request holds a slot of the webhook's concurrency limit (a
// Redis semaphore shared by every dispatcher, so one slow receiver holds at most
// WEBHOOK_CONCURRENCY_PER_ENDPOINT requests and never delays the others). The delivery row stays the
// truth: a job that is lost (Redis restarted, process killed between commit and enqueue) is re-created by
// the sweeper, and a claim whose dispatcher died runs out and is claimed again.

import { type KeyObject, randomUUID } from 'node:crypto';
import {
  type Config,
  closeRedis,
  createRedis,
  type JobPayload,
  type Logger,
  type Pool,
  type QUEUES,
  type SecretSealer,
} from '@cruise/shared';
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type AttemptRecord,
  type ClaimedBatch,
  claimFirstAttempts,
  type EventBodies,
  loadAttempt,
  overdueDeliveries,
  recordAndClaim,
  recordAttempts,
} from '../domain/deliveries.ts';
import type { NewDelivery } from '../domain/event-store.ts';
import { nextRetryDelayMs } from '../domain/retry-schedule.ts';
import { signingKey, webhookHeaders } from '../domain/signing.ts';
import { signingSecrets } from '../domain/webhooks.ts';
import type { NotificationMetrics } from '../metrics.ts';
import { endpointSlots } from './endpoint-slots.ts';
import { createReceiverClient } from './receiver-client.ts';

export interface DeliveryQueue {
  /**
   * Enqueues the next attempt of each delivery: first attempts as one `drain` job per webhook (its due
   * first attempts are claimed and sent in batches), later ones as one job per attempt, `delayMs` away.
   * Job ids are derived from the deliveries, so enqueuing the same list twice is harmless.
   */
  enqueue(deliveries: NewDelivery[], delayMs?: number): Promise<void>;
  /** One more `drain` job for a webhook (its work handed on). */
  drain(webhookId: string): Promise<void>;
  queue: Queue;
}

export function jobIdOf(deliveryId: string, attempt: number): string {
  return `${deliveryId}_${attempt}`;
}

/** Infrastructure errors (database down) are retried by BullMQ; receiver failures are not job failures. */
const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: true,
} as const;

/** The delivery queue over the BullMQ queue the service framework owns (and closes). */
export function createDeliveryQueue(queue: Queue): DeliveryQueue {
  return {
    queue,
    async enqueue(deliveries, delayMs = 0) {
      if (deliveries.length === 0) return;
      const drains = new Map<string, string>();
      const jobs = [];
      for (const d of deliveries) {
        if (d.attempts === 0) {
          if (!drains.has(d.webhook_id)) drains.set(d.webhook_id, d.delivery_id);
          continue;
        }
        jobs.push({
          name: 'deliver',
          data: { delivery_id: d.delivery_id, webhook_id: d.webhook_id, attempt: d.attempts + 1 },
          opts: { ...JOB_OPTIONS, jobId: jobIdOf(d.delivery_id, d.attempts + 1), delay: delayMs },
        });
      }
      for (const [webhookId, first] of drains) {
        jobs.push({
          name: 'drain',
          data: { webhook_id: webhookId, drain: true as const },
          opts: { ...JOB_OPTIONS, jobId: `drain_${webhookId}_${first}`, delay: delayMs },
        });
      }
      await queue.addBulk(jobs);
    },
    async drain(webhookId) {
      await queue.add(
        'drain',
        { webhook_id: webhookId, drain: true },
        { ...JOB_OPTIONS, jobId: `drain_${webhookId}_${randomUUID()}` },
      );
    },
  };
}

function outcomeLabel(statusCode: number | null, error: string | null): string {
  if (statusCode !== null) {
    if (statusCode === 410) return '410';
    return `${Math.floor(statusCode / 100)}xx`;
  }
  if (error?.startsWith('timeout')) return 'timeout';
  if (error?.startsWith('blocked')) return 'blocked';
  return 'error';
}

export interface DispatcherDeps {
  config: Config;
  pool: Pool;
  log: Logger;
  sealer: SecretSealer;
  queue: DeliveryQueue;
  metrics: NotificationMetrics;
  /** Bodies of the events this process stored (a claim reads the others from the events table). */
  bodies?: EventBodies;
}

/** The dispatcher: what the `webhook-delivery` worker runs, and the sweep job. */
export interface Dispatcher {
  /** One `webhook-delivery` job: a retry's attempt, or a drain of a webhook's first attempts. */
  run(data: JobPayload<typeof QUEUES.webhookDelivery>, job: Job): Promise<string>;
  /** Re-enqueues PENDING deliveries overdue for a while (their job lost, or their claim lapsed). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * First attempts a sender claims at a time (one claim, one multi-row record per batch). 200 rather than
 * 50: a quarter of the statements and commits per delivery, +16 % deliveries/s in the bench; a batch
 * still goes out well within the drain's budget (200 POSTs at a few ms each).
 */
export const DRAIN_BATCH = 200;
/** A drain starts no new request after this long; what it claimed and did not send is due again at once. */
const DRAIN_BUDGET_MS = 5_000;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { config, pool, log, sealer, queue, metrics, bodies } = deps;
  const semaphoreRedis: Redis = createRedis(config, 'blocking');
  const client = createReceiverClient({
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS,
  });
  const limit = config.WEBHOOK_CONCURRENCY_PER_ENDPOINT;
  // A sender renews its slot before every batch; a batch ends within the budget plus one request's timeout.
  const slots = endpointSlots(semaphoreRedis, {
    keyPrefix: config.REDIS_PREFIX,
    limit,
    leaseMs: DRAIN_BUDGET_MS + config.WEBHOOK_TIMEOUT_MS + 5_000,
  });
  const claimLeaseMs = DRAIN_BUDGET_MS + config.WEBHOOK_TIMEOUT_MS + 5_000;

  /** What a receiver's answer means for the delivery, attempt `attempt` made at `now`. */
  function decide(code: number | null, attempt: number, now: Date, firstAt: Date): AttemptRecord['next'] {
    if (code !== null && code >= 200 && code < 300) return { kind: 'succeeded' };
    if (code === 410) return { kind: 'gone' };
    const delay = nextRetryDelayMs(attempt, now.getTime() - firstAt.getTime(), {
      fixed: config.WEBHOOK_RETRY_DELAYS_MS,
    });
    return delay === null ? { kind: 'failed' } : { kind: 'retry', delayMs: delay };
  }

  /** Signs and POSTs one event; the attempt as it is to be recorded. */
  async function attemptOnce(
    url: string,
    secrets: KeyObject[],
    deliveryId: string,
    eventId: string,
    raw: string,
    attempt: number,
    firstAt: Date | null,
  ): Promise<AttemptRecord> {
    const now = new Date();
    const headers = webhookHeaders(secrets, eventId, Math.floor(now.getTime() / 1000), raw);
    const sent = await client.post(url, headers, raw);
    metrics.attempts.inc({ outcome: outcomeLabel(sent.statusCode, sent.error) });
    const code = sent.statusCode;
    return {
      deliveryId,
      attempt,
      result: {
        startedAt: now,
        durationMs: sent.durationMs,
        statusCode: code,
        error: sent.error ?? (code !== null && (code < 200 || code >= 300) ? `HTTP ${code}` : null),
      },
      next: decide(code, attempt, now, firstAt ?? now),
    };
  }

  /** Metrics, logs and the next attempts' jobs of recorded attempts. */
  async function afterRecorded(
    records: AttemptRecord[],
    recorded: Set<string>,
    webhookId: string,
    createdAt: Map<string, Date>,
  ): Promise<void> {
    const byDelay = new Map<number, NewDelivery[]>();
    for (const r of records) {
      if (!recorded.has(r.deliveryId)) continue;
      if (r.next.kind === 'succeeded') {
        metrics.deliveries.inc({ result: 'succeeded' });
        const at = createdAt.get(r.deliveryId);
        if (at) metrics.lag.observe((Date.now() - at.getTime()) / 1000);
      } else if (r.next.kind === 'gone') {
        metrics.deliveries.inc({ result: 'gone' });
        log.warn(
          { webhook_id: webhookId, delivery_id: r.deliveryId },
          'receiver answered 410: webhook disabled',
        );
      } else if (r.next.kind === 'failed') {
        metrics.deliveries.inc({ result: 'failed' });
        log.warn(
          { delivery_id: r.deliveryId, attempts: r.attempt, last: r.result.error ?? r.result.statusCode },
          'delivery failed for good',
        );
      } else if (r.next.kind === 'retry') {
        const next = { delivery_id: r.deliveryId, webhook_id: webhookId, attempts: r.attempt };
        byDelay.set(r.next.delayMs, [...(byDelay.get(r.next.delayMs) ?? []), next]);
      }
    }
    // If an enqueue is lost, the sweeper re-creates the job once the attempt is overdue.
    for (const [delayMs, list] of byDelay) {
      await queue
        .enqueue(list, delayMs)
        .catch((err) =>
          log.warn({ err, deliveries: list.length }, 'next attempts not enqueued; the sweeper will'),
        );
    }
  }

  /** One attempt of one delivery (the retries): the job waits for a slot of its webhook. */
  async function processAttempt(
    job: Job,
    token: string | undefined,
    data: { delivery_id: string; webhook_id: string; attempt: number },
  ): Promise<string> {
    const { delivery_id, webhook_id, attempt } = data;
    // The slot first: a job that must wait reads nothing and steps aside at once.
    const held = await slots.acquire(webhook_id, `${job.id}:${token ?? ''}`, 1);
    if (held.length === 0) {
      // The receiver already has its share of deliveries in flight: step aside and come back shortly.
      await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 400), token);
      throw new DelayedError();
    }
    try {
      const ctx = await loadAttempt(pool, delivery_id);
      // Gone, finished, another attempt's job, or a disabled webhook (the sweeper picks its deliveries
      // up once it is enabled again): nothing to do.
      const skip =
        ctx?.status !== 'PENDING' || ctx.attempts !== attempt - 1
          ? 'stale'
          : ctx.webhook.status !== 'ENABLED'
            ? 'disabled'
            : null;
      if (skip || !ctx) return skip ?? 'stale';
      const record = await attemptOnce(
        ctx.webhook.url,
        signingSecrets(ctx.webhook, sealer, new Date()).map(signingKey),
        delivery_id,
        ctx.event_id,
        ctx.body,
        attempt,
        ctx.first_attempt_at,
      );
      const recorded = await recordAttempts(pool, [record]);
      await afterRecorded([record], recorded, webhook_id, new Map([[delivery_id, ctx.event_created_at]]));
      return recorded.has(delivery_id) ? record.next.kind : 'stale';
    } finally {
      // A drain found no free slot meanwhile: hand its work on.
      if (await slots.release(webhook_id, held)) await queue.drain(webhook_id);
    }
  }

  /**
   * The due first attempts of one webhook. A sender (holding one slot of the webhook) claims DRAIN_BATCH
   * of them at a time, sends them one after the other over its keep-alive connection and records the
   * batch's attempts and claims the next batch in one statement, until none is due or the budget is spent; while its
   * claims come back full, it starts one more sender, up to the webhook's limit. No free slot at all:
   * the job leaves the wanted mark and ends; whoever gives a slot back next hands the work on.
   */
  async function processDrain(job: Job, token: string | undefined, webhookId: string): Promise<string> {
    const holder = `${job.id}:${token ?? ''}`;
    const [first] = await slots.acquire(webhookId, holder, 1, { markWanted: true });
    if (!first) return 'busy';
    const deadline = Date.now() + DRAIN_BUDGET_MS;
    const senders: Promise<void>[] = [];
    let slotNames = 1;
    let sent = 0;
    let gone = false;
    let handOn = false;
    const claim = { webhookId, limit: DRAIN_BATCH, leaseMs: claimLeaseMs, bodies };
    const sender = async (slot: string) => {
      try {
        let batch: ClaimedBatch | null = await claimFirstAttempts(
          pool,
          webhookId,
          DRAIN_BATCH,
          claimLeaseMs,
          bodies,
        );
        while (batch) {
          const { webhook, deliveries } = batch;
          const full = deliveries.length === DRAIN_BATCH;
          if (full && senders.length < limit) {
            // More may be due: one more sender, if the webhook has a free slot.
            const [more] = await slots.acquire(webhookId, holder, 1, { first: ++slotNames });
            if (more) senders.push(sender(more));
          }
          const secrets = signingSecrets(webhook, sealer, new Date()).map(signingKey);
          const records: AttemptRecord[] = [];
          let next = 0;
          while (next < deliveries.length && !gone && Date.now() < deadline) {
            const d = deliveries[next++]!;
            const record = await attemptOnce(
              webhook.url,
              secrets,
              d.delivery_id,
              d.event_id,
              d.body,
              1,
              null,
            );
            records.push(record);
            if (record.next.kind === 'gone') gone = true;
          }
          // Claimed but not sent (budget spent, or the receiver said 410): due again at once.
          const unsent = deliveries.slice(next).map((d) => d.delivery_id);
          const goOn = full && unsent.length === 0 && !gone && Date.now() < deadline;
          let recorded: Set<string>;
          if (goOn) {
            // The batch recorded and the next one claimed in one statement.
            ({ recorded, next: batch } = await recordAndClaim(pool, records, claim));
          } else {
            recorded = await recordAttempts(pool, records, unsent);
            batch = null;
            // Budget spent with more perhaps due (or handed back): the next drain job goes on.
            if (!gone && (unsent.length > 0 || (full && Date.now() >= deadline))) handOn = true;
          }
          sent += records.length;
          await afterRecorded(
            records,
            recorded,
            webhookId,
            new Map(deliveries.map((d) => [d.delivery_id, d.event_created_at])),
          );
          if (batch) await slots.renew(webhookId, slot);
        }
      } finally {
        // A drain found no free slot meanwhile: its work is handed on below.
        if (await slots.release(webhookId, [slot])) handOn = true;
      }
    };
    senders.push(sender(first));
    let failure: unknown;
    for (let i = 0; i < senders.length; i++) {
      await senders[i]!.catch((err) => {
        failure ??= err;
      });
    }
    if (handOn && !gone) await queue.drain(webhookId);
    if (failure) throw failure;
    return `sent ${sent}`;
  }

  async function sweep(): Promise<number> {
    const overdue = await overdueDeliveries(pool, 10);
    await queue.enqueue(overdue);
    return overdue.length;
  }

  return {
    run: (data, job) =>
      'drain' in data ? processDrain(job, job.token, data.webhook_id) : processAttempt(job, job.token, data),
    sweep,
    async close() {
      await client.close();
      await closeRedis(semaphoreRedis);
    },
  };
}
