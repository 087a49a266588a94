// Business and plumbing series every service shares, on the service's own /metrics registry: BullMQ
// queue depth and failures, the transactional outbox's backlog, NATS command latency and timeouts.
// Gauges read their value when Prometheus scrapes (collect), so nothing polls in between.
import type { Queue, Worker } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { settleWithin } from './bounded.ts';
import type { Pool } from './db.ts';

/** A scrape must answer even when Redis or PostgreSQL does not: a stuck source keeps its last value. */
const COLLECT_TIMEOUT_MS = 1_000;

const within = <T>(work: Promise<T>) => settleWithin(work, COLLECT_TIMEOUT_MS);

/**
 * One read shared by the gauges a scrape collects together (prom-client collects them concurrently):
 * a call while a read is in flight gets that read's result instead of querying again.
 */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** One metric object per registry and name: several parts of a service may ask for the same series. */
const perRegistry = new WeakMap<Registry, Map<string, unknown>>();
export function registryMetric<T>(registry: Registry, name: string, create: () => T): T {
  let metrics = perRegistry.get(registry);
  if (!metrics) {
    metrics = new Map();
    perRegistry.set(registry, metrics);
  }
  if (!metrics.has(name)) metrics.set(name, create());
  return metrics.get(name) as T;
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

/** `bullmq_queue_jobs{queue,state}`: jobs per state of each queue, read from Redis at scrape time. */
export function watchQueues(registry: Registry, queues: Queue[]): void {
  const watched = registryMetric(registry, 'bullmq_queue_jobs', () => {
    const list: Queue[] = [];
    new Gauge({
      name: 'bullmq_queue_jobs',
      help: 'BullMQ jobs by queue and state (waiting + prioritized + delayed is the backlog)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        await Promise.all(
          list.map(async (queue) => {
            const counts = await within(queue.getJobCounts(...JOB_STATES));
            if (!counts) return;
            for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          }),
        );
      },
    });
    return list;
  });
  watched.push(...queues);
}

/** `bullmq_job_failures_total{queue}`: every failed attempt of a job (retried or final). */
export function countJobFailures(registry: Registry, worker: Worker): void {
  const failures = registryMetric(
    registry,
    'bullmq_job_failures_total',
    () =>
      new Counter({
        name: 'bullmq_job_failures_total',
        help: 'Failed job attempts by queue (a job retried three times counts three)',
        labelNames: ['queue'] as const,
        registers: [registry],
      }),
  );
  failures.inc({ queue: worker.name }, 0);
  worker.on('failed', () => failures.inc({ queue: worker.name }));
}

/**
 * `outbox_relay_pass_events{schema}`: events published per relay pass. Passes of one event each at a
 * moderate rate mean the relay claims, marks and commits once per event; larger passes share that work.
 */
export function outboxPassSizes(registry: Registry, schema: string): (published: number) => void {
  const histogram = new Histogram({
    name: 'outbox_relay_pass_events',
    help: 'Events published to JetStream per outbox relay pass',
    labelNames: ['schema'] as const,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [registry],
  });
  return (published) => histogram.observe({ schema }, published);
}

/**
 * `outbox_backlog_events{schema}` and `outbox_oldest_unpublished_age_seconds{schema}`: events committed
 * but not yet on JetStream. A growing age means the relay cannot publish (NATS down, relay stuck).
 */
export function watchOutbox(registry: Registry, pool: Pool, schema: string): void {
  let last = { backlog: 0, age: 0 };
  const read = sharedRead(async () => {
    const result = await within(
      pool.query<{ backlog: number; age: number | null }>(
        `SELECT count(*)::int AS backlog, extract(epoch FROM now() - min(created_at))::float8 AS age
           FROM "${schema}".outbox WHERE published_at IS NULL`,
      ),
    );
    const row = result?.rows[0];
    if (row) last = { backlog: row.backlog, age: row.age ?? 0 };
    return last;
  });
  new Gauge({
    name: 'outbox_backlog_events',
    help: 'Outbox events committed but not yet published to JetStream',
    labelNames: ['schema'] as const,
    registers: [registry],
    async collect() {
      this.set({ schema }, (await read()).backlog);
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when the outbox is drained)',
    labelNames: ['schema'] as const,
    registers: [registry],
    // One query per scrape serves both gauges.
    async collect() {
      this.set({ schema }, (await read()).age);
    },
  });
}

export interface CommandMetrics {
  duration: Histogram<'command' | 'outcome'>;
  timeouts: Counter<'command'>;
}

/** `nats_command_duration_seconds{command,outcome}` and `nats_command_timeouts_total{command}`. */
export function commandMetrics(registry: Registry): CommandMetrics {
  return registryMetric(registry, 'nats_command', () => ({
    duration: new Histogram({
      name: 'nats_command_duration_seconds',
      help: 'NATS request/reply commands sent to another service, by command and outcome (ok, refused, unavailable)',
      labelNames: ['command', 'outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    timeouts: new Counter({
      name: 'nats_command_timeouts_total',
      help: 'NATS commands that got no reply in time (or found no responder)',
      labelNames: ['command'] as const,
      registers: [registry],
    }),
  }));
}
