// The dispatcher: one BullMQ job per delivery attempt. A job loads its delivery, waits for a slot of
// the webhook's concurrency limit (a Redis semaphore shared by every dispatcher, so one slow receiver
// holds at most WEBHOOK_CONCURRENCY_PER_ENDPOINT workers and never delays the others), signs and POSTs
// the event, records the attempt, and schedules the next one. The delivery row stays the truth: a job
// that is lost (Redis restarted, process killed between commit and enqueue) is re-created by the sweeper.
import {
  bullPrefix,
  type Config,
  createRedis,
  jobSchemas,
  type Logger,
  type Pool,
  QUEUES,
  type SecretSealer,
} from '@cruise/shared';
import { DelayedError, type Job, Queue, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { type AttemptOutcome, loadAttempt, overdueDeliveries, recordAttempt } from '../domain/deliveries.ts';
import type { NewDelivery } from '../domain/event-store.ts';
import { nextRetryDelayMs } from '../domain/retry-schedule.ts';
import { webhookHeaders } from '../domain/signing.ts';
import { signingSecrets } from '../domain/webhooks.ts';
import type { NotificationMetrics } from '../metrics.ts';
import { createReceiverClient } from './receiver-client.ts';

/** Acquire: drop expired leases, then take one when fewer than the limit are held. */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

interface SlotCommands {
  acquireWebhookSlot(key: string, ...args: (string | number)[]): Promise<number>;
}

export interface DeliveryQueue {
  /** Enqueues the next attempt of each delivery (job id per attempt: enqueuing twice is harmless). */
  enqueue(deliveries: NewDelivery[], delayMs?: number): Promise<void>;
  queue: Queue;
  close(): Promise<void>;
}

export function jobIdOf(deliveryId: string, attempt: number): string {
  return `${deliveryId}_${attempt}`;
}

export function createDeliveryQueue(config: Config, log: Logger): DeliveryQueue {
  const connection = createRedis(config, 'blocking');
  const queue = new Queue(QUEUES.webhookDelivery, { connection, prefix: bullPrefix(config) });
  queue.on('error', (err) => log.warn({ err }, 'webhook delivery queue error'));
  return {
    queue,
    async enqueue(deliveries, delayMs = 0) {
      if (deliveries.length === 0) return;
      await queue.addBulk(
        deliveries.map((d) => ({
          name: 'deliver',
          data: { delivery_id: d.delivery_id, webhook_id: d.webhook_id, attempt: d.attempts + 1 },
          opts: {
            jobId: jobIdOf(d.delivery_id, d.attempts + 1),
            delay: delayMs,
            // Infrastructure errors (database down) are retried by BullMQ; receiver failures are not
            // job failures: they are recorded and scheduled as the next attempt's job.
            attempts: 8,
            backoff: { type: 'exponential', delay: 1_000 },
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      );
    },
    async close() {
      await queue.close();
      connection.disconnect();
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

export interface DeliveryWorkerDeps {
  config: Config;
  pool: Pool;
  log: Logger;
  sealer: SecretSealer;
  queue: DeliveryQueue;
  metrics: NotificationMetrics;
  /** e.g. a short `stalledInterval` in tests that kill a dispatcher mid-delivery. */
  tuning?: Pick<WorkerOptions, 'stalledInterval' | 'lockDuration'>;
}

export interface DeliveryWorker {
  worker: Worker;
  /** One sweep for deliveries whose job is missing (the interval runs it every 10 s). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export function startDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { config, pool, log, sealer, queue, metrics } = deps;
  const prefix = bullPrefix(config);
  const semaphoreRedis: Redis = createRedis(config, 'blocking');
  const workerConnection = createRedis(config, 'blocking');
  const client = createReceiverClient({
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_URLS,
  });
  const leaseMs = config.WEBHOOK_TIMEOUT_MS + 5_000;

  // Registered once: ioredis then runs it by its SHA (EVALSHA) instead of sending the script every time.
  semaphoreRedis.defineCommand('acquireWebhookSlot', { numberOfKeys: 1, lua: ACQUIRE });
  async function acquire(webhookId: string, holder: string): Promise<boolean> {
    const now = Date.now();
    const got = await (semaphoreRedis as unknown as SlotCommands).acquireWebhookSlot(
      `${config.REDIS_PREFIX}:webhook-inflight:${webhookId}`,
      now,
      now + leaseMs,
      config.WEBHOOK_CONCURRENCY_PER_ENDPOINT,
      holder,
      leaseMs * 2,
    );
    return got === 1;
  }
  async function release(webhookId: string, holder: string): Promise<void> {
    await semaphoreRedis.zrem(`${config.REDIS_PREFIX}:webhook-inflight:${webhookId}`, holder).catch(() => {});
  }

  async function process(job: Job, token?: string): Promise<string> {
    const parsed = jobSchemas[QUEUES.webhookDelivery].safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad ${QUEUES.webhookDelivery} payload`);
    const { delivery_id, webhook_id, attempt } = parsed.data;
    const holder = `${job.id}:${token ?? ''}`;
    // The slot first: a job that must wait reads nothing and steps aside at once.
    if (!(await acquire(webhook_id, holder))) {
      // The receiver already has its share of deliveries in flight: step aside and come back shortly.
      await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 400), token);
      throw new DelayedError();
    }
    const ctx = await loadAttempt(pool, delivery_id).catch(async (err) => {
      await release(webhook_id, holder);
      throw err;
    });
    // Gone, finished, another attempt's job, or a disabled webhook (the sweeper picks its deliveries
    // up once it is enabled again): nothing to do.
    const skip =
      ctx?.status !== 'PENDING' || ctx.attempts !== attempt - 1
        ? 'stale'
        : ctx.webhook.status !== 'ENABLED'
          ? 'disabled'
          : null;
    if (skip || !ctx) {
      await release(webhook_id, holder);
      return skip ?? 'stale';
    }
    try {
      const now = new Date();
      const body = JSON.stringify(ctx.body);
      const headers = webhookHeaders(
        signingSecrets(ctx.webhook, sealer, now),
        ctx.body.event_id,
        Math.floor(now.getTime() / 1000),
        body,
      );
      const sent = await client.post(ctx.webhook.url, headers, body);
      metrics.attempts.inc({ outcome: outcomeLabel(sent.statusCode, sent.error) });
      const code = sent.statusCode;
      let next: AttemptOutcome;
      if (code !== null && code >= 200 && code < 300) next = { kind: 'succeeded' };
      else if (code === 410) next = { kind: 'gone' };
      else {
        const firstAt = ctx.first_attempt_at ?? now;
        const delay = nextRetryDelayMs(attempt, now.getTime() - firstAt.getTime(), {
          fixed: config.WEBHOOK_RETRY_DELAYS_MS,
        });
        next = delay === null ? { kind: 'failed' } : { kind: 'retry', delayMs: delay };
      }
      const recorded = await recordAttempt(pool, {
        deliveryId: delivery_id,
        attempt,
        result: {
          startedAt: now,
          durationMs: sent.durationMs,
          statusCode: code,
          error: sent.error ?? (code !== null && (code < 200 || code >= 300) ? `HTTP ${code}` : null),
        },
        next,
      });
      if (recorded.kind === 'succeeded') {
        metrics.deliveries.inc({ result: 'succeeded' });
        metrics.lag.observe((Date.now() - ctx.event_created_at.getTime()) / 1000);
      } else if (recorded.kind === 'gone') {
        metrics.deliveries.inc({ result: 'gone' });
        log.warn(
          { webhook_id: ctx.webhook.webhook_id, delivery_id },
          'receiver answered 410: webhook disabled',
        );
      } else if (recorded.kind === 'failed') {
        metrics.deliveries.inc({ result: 'failed' });
        log.warn({ delivery_id, attempts: attempt, last: sent.error ?? code }, 'delivery failed for good');
      } else if (recorded.kind === 'retry') {
        // If this enqueue is lost, the sweeper re-creates the job once the attempt is overdue.
        await queue
          .enqueue([{ delivery_id, webhook_id, attempts: attempt }], recorded.delayMs)
          .catch((err) => log.warn({ err, delivery_id }, 'next attempt not enqueued; the sweeper will'));
      }
      return recorded.kind;
    } finally {
      await release(webhook_id, holder);
    }
  }

  const worker = new Worker(QUEUES.webhookDelivery, process, {
    connection: workerConnection,
    prefix,
    concurrency: config.WEBHOOK_WORKER_CONCURRENCY,
    // A dispatcher killed mid-delivery leaves its job active; after the lock lapses another picks it up.
    maxStalledCount: 100,
    ...deps.tuning,
  });
  worker.on('failed', (job, err) => {
    if (err instanceof DelayedError) return;
    log.warn({ err, job: job?.id }, 'delivery attempt failed before reaching the receiver; retrying');
  });
  worker.on('error', (err) => log.warn({ err }, 'webhook delivery worker error'));

  async function sweep(): Promise<number> {
    const overdue = await overdueDeliveries(pool, 10);
    await queue.enqueue(overdue);
    return overdue.length;
  }
  const timer = setInterval(() => {
    sweep().catch((err) => log.warn({ err }, 'delivery sweep failed; next round retries'));
  }, 10_000);
  timer.unref();

  return {
    worker,
    sweep,
    async close() {
      clearInterval(timer);
      await worker.close();
      await client.close();
      workerConnection.disconnect();
      semaphoreRedis.disconnect();
    },
  };
}
