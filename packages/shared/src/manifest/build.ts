// buildService: a manifest (define.ts) → the un-listened fastify app of the service, with its routes
// (schemas, auth, typed input), NATS responders and consumers, BullMQ job schedulers and workers, the
// outbox relay, readiness checks, metrics, and one shutdown order for all of them:
// HTTP (fastify drains in-flight requests) → consumers and responders (commands being answered finish) → workers and queues → relay →
// what the context registered (last first). The caller closes ServiceDeps after app.close().
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Subscription } from 'nats';
import { Counter, Histogram } from 'prom-client';
import type { Config } from '../config.ts';
import { type RouteDef, routeSchema } from '../contract/common.ts';
import { AppError } from '../errors.ts';
import { type App, type Caller, createServiceApp } from '../http.ts';
import { idempotent } from '../idempotency.ts';
import { isUuid } from '../ids.ts';
import type { EventEnvelope } from '../messages.ts';
import { countJobFailures, outboxPassSizes, watchOutbox, watchQueues } from '../metrics.ts';
import {
  type CommandClient,
  consumeEvents,
  createCommandClient,
  type EventConsumer,
  ensureEventStream,
  respond,
} from '../nats.ts';
import { type OutboxRelay, startOutboxRelay } from '../outbox.ts';
import { bullHandshakes, bullPrefix, closeRedis, createRedis, jobSchemas } from '../queues.ts';
import { secretSealer } from '../sealed-secrets.ts';
import { addDependencyChecks, type ServiceDeps } from '../service.ts';
import {
  Answer,
  type BuildOptions,
  type Every,
  type ManifestConsumer,
  type ManifestJob,
  type ManifestRoute,
  type ManifestWorker,
  type RouteGroup,
  type ServiceKit,
  type ServiceManifest,
} from './define.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of an `every`. */
export function everyMs(every: Every, config: Config): number {
  if (typeof every === 'number') return every;
  if (typeof every === 'function') return every(config);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(every);
  if (!m) throw new Error(`cannot read the interval "${every}"`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export async function buildService<Ctx, O>(
  manifest: ServiceManifest<Ctx, O>,
  config: Config,
  deps: ServiceDeps,
  opts: BuildOptions<O> = {} as BuildOptions<O>,
): Promise<App> {
  const { logger, logStream, workers: runWorkers, ...options } = opts;
  const app = createServiceApp({
    service: manifest.name,
    config,
    ...(logger === undefined ? {} : { logger }),
    ...(logStream ? { logStream } : {}),
    callerHeaders: manifest.edge ? 'ignore' : 'verify',
    ...(manifest.errorDialects ? { errorDialects: manifest.errorDialects } : {}),
  });
  addDependencyChecks(app, deps);
  const log = app.log;
  const prefix = config.NATS_PREFIX;
  const telemetry = backgroundMetrics(app);

  // Built lazily, closed in order at shutdown.
  let relay: OutboxRelay | undefined;
  let bull: Redis | undefined;
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const subscriptions: Subscription[] = [];
  // Commands being answered: shutdown waits for them before anything they use (the pool) is closed.
  const answering = new Set<Promise<unknown>>();
  const consumers: EventConsumer[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  const schedulers: Promise<void>[] = [];
  let closing = false;
  // Settles at shutdown: a scheduler upsert waiting on an unreachable Redis stops waiting.
  let stopWaiting: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stopWaiting = resolve;
  });

  const bullConnection = () => {
    bull ??= createRedis(config, 'blocking');
    return bull;
  };
  const queueOf = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: bullConnection(), prefix: bullPrefix(config) });
      q.on('error', (err) => log.warn({ err, queue: name }, 'queue error'));
      queues.set(name, q);
      watchQueues(app.metrics, [q]);
    }
    return q;
  };

  // fastify runs onClose hooks once the server stopped taking requests and the in-flight ones
  // finished (HTTP first); this one hook then stops the rest in the service's order.
  app.addHook('onClose', async () => {
    closing = true;
    stopWaiting();
    log.info({ stage: 'messaging' }, 'shutdown: stopping consumers and responders');
    await Promise.all([
      ...consumers.map((c) => c.stop()),
      ...subscriptions.map((s) => s.drain().catch(() => {})),
    ]);
    await Promise.allSettled([...answering]);
    log.info({ stage: 'workers' }, 'shutdown: stopping workers and queues');
    await bullHandshakes([...workers, ...queues.values()]);
    await Promise.all(workers.map((w) => closeWorker(w, log)));
    await Promise.all([...queues.values()].map((q) => q.close()));
    await Promise.all(schedulers);
    if (bull) await closeRedis(bull);
    log.info({ stage: 'relay' }, 'shutdown: stopping the outbox relay');
    await relay?.stop();
    log.info({ stage: 'context' }, 'shutdown: closing the service context');
    for (const close of closers.reverse()) await close();
  });

  try {
    await wire();
  } catch (err) {
    // Whatever started before the failure (relay, consumers, workers) stops with the app.
    await app.close().catch(() => {});
    throw err;
  }
  return app;

  async function wire(): Promise<void> {
    if (manifest.outbox || manifest.consumers?.length) await ensureEventStream(deps.nc, prefix);
    if (manifest.outbox) {
      relay = startOutboxRelay({
        pool: deps.pool,
        nc: deps.nc,
        prefix,
        schema: manifest.schema,
        log: deps.log,
        onPass: outboxPassSizes(app.metrics, manifest.schema),
        ...(typeof manifest.outbox === 'object' ? { batchSize: manifest.outbox.batchSize } : {}),
      });
      watchOutbox(app.metrics, deps.pool, manifest.schema);
    }
    const commands: CommandClient = createCommandClient(
      deps.nc,
      prefix,
      config.NATS_REQUEST_TIMEOUT_MS,
      app.metrics,
    );
    const kit: ServiceKit<O> = {
      app,
      log: deps.log,
      metrics: app.metrics,
      commands,
      get relay(): OutboxRelay {
        if (!relay) throw new Error(`${manifest.name} declares no outbox: set outbox: true in its manifest`);
        return relay;
      },
      queue: queueOf,
      bullConnection,
      addReadinessCheck: (name, check) => app.addReadinessCheck(name, check),
      onClose: (fn) => {
        closers.push(fn);
      },
      options: options as O,
    };
    const ctx = await manifest.context(config, deps, kit);

    for (const plugin of manifest.plugins ?? []) await plugin(app, ctx);

    for (const entry of manifest.routes ?? []) {
      if (entry.kind === 'route') registerRoute(app, entry, ctx, manifest, config, deps, '');
      else await registerGroup(app, entry, ctx, manifest, config, deps);
    }

    for (const r of manifest.responders ?? []) {
      const name = r.command;
      subscriptions.push(
        respond(
          deps.nc,
          prefix,
          name,
          manifest.name,
          (request) => {
            const work = telemetry.time('responder', name, () => r.handler(request as never, ctx));
            answering.add(work);
            void work.finally(() => answering.delete(work)).catch(() => {});
            return work as never;
          },
          deps.log,
        ),
      );
    }

    for (const c of manifest.consumers ?? []) {
      consumers.push(await startConsumer(c, ctx, deps, prefix, telemetry));
    }

    // RUN_WORKERS=false: an API-only process (it may still enqueue through kit.queue).
    const jobs = (runWorkers ?? config.RUN_WORKERS) ? (manifest.jobs ?? []) : [];
    for (const j of jobs) {
      if (j.kind === 'job') {
        const queueName = j.queue ?? `${manifest.name}-${j.name}`;
        const every = everyMs(j.every, config);
        const schedule = () => upsertScheduler(queueOf(queueName), j, every, log, () => closing, stopped);
        schedulers.push(schedule());
        // Job schedulers live in Redis: one restarted empty has lost them. Upserting again whenever the
        // connection is (re)established puts them back (an upsert of a present scheduler changes nothing).
        bullConnection().on('ready', () => {
          if (!closing) schedulers.push(schedule());
        });
        workers.push(
          startWorker(queueName, 1, j.name, bullConnection(), config, log, telemetry, (job) =>
            j.run(ctx, { id: String(job.id), scheduledFor: new Date(job.timestamp) }),
          ),
        );
      } else {
        workers.push(
          startWorker(
            j.queue,
            typeof j.concurrency === 'function' ? j.concurrency(config) : j.concurrency,
            j.queue,
            bullConnection(),
            config,
            log,
            telemetry,
            (job) => j.run(parsePayload(j, job), job, ctx),
            j.failed ? (job, err) => j.failed!(job, err, ctx) : undefined,
          ),
        );
      }
    }
    for (const w of workers) countJobFailures(app.metrics, w);
  }
}

// ---------------------------------------------------------------------------------------------- routes

async function registerGroup<Ctx, O>(
  app: App,
  g: RouteGroup<Ctx>,
  ctx: Ctx,
  manifest: ServiceManifest<Ctx, O>,
  config: Config,
  deps: ServiceDeps,
): Promise<void> {
  await app.register(
    async (scope) => {
      await g.setup?.(scope, ctx);
      for (const r of g.routes) registerRoute(scope as App, r, ctx, manifest, config, deps, g.prefix ?? '');
    },
    g.prefix ? { prefix: g.prefix } : {},
  );
}

/** The standard check of a route's `auth` against the caller the gateway vouched for. */
export function checkCaller(auth: RouteDef['auth'], caller: Caller): Caller {
  switch (auth) {
    case 'partner':
      if (caller.kind !== 'partner') throw new AppError('UNAUTHORIZED', 'A partner API key is required');
      return partnerCaller(caller.partnerId);
    case 'admin':
      if (caller.kind !== 'admin') throw new AppError('UNAUTHORIZED', 'The operator token is required');
      return caller;
    case 'partner-or-admin':
      if (caller.kind === 'admin') return caller;
      if (caller.kind !== 'partner') {
        throw new AppError('UNAUTHORIZED', 'A partner API key or the operator token is required');
      }
      return partnerCaller(caller.partnerId);
    default:
      return caller;
  }
}

/** A malformed partner id is refused like a missing one, instead of failing in the database. */
function partnerCaller(partnerId: string): Caller {
  if (!isUuid(partnerId)) throw new AppError('UNAUTHORIZED', 'The partner identity is malformed');
  return { kind: 'partner', partnerId: partnerId.toLowerCase() };
}

function defaultStatus(def: RouteDef): number {
  const statuses = Object.keys(def.response)
    .map(Number)
    .sort((a, b) => a - b);
  return statuses[0] ?? 200;
}

function send(reply: FastifyReply, result: unknown, status: number): FastifyReply {
  if (result === reply) return reply;
  if (result instanceof Answer) {
    if (result.contentType) reply.type(result.contentType);
    return reply.code(result.status).send(result.body);
  }
  if (status === 204) return reply.code(204).send();
  return reply.code(status).send(result);
}

function registerRoute<Ctx, O>(
  app: FastifyInstance,
  r: ManifestRoute<Ctx>,
  ctx: Ctx,
  manifest: ServiceManifest<Ctx, O>,
  config: Config,
  deps: ServiceDeps,
  prefix: string,
): void {
  const { def, options } = r;
  if (prefix && !def.path.startsWith(prefix)) {
    throw new Error(`${def.operationId}: ${def.path} is not under its group's prefix ${prefix}`);
  }
  const callers = new WeakMap<FastifyRequest, unknown>();
  const status = defaultStatus(def);
  const sealer = r.idempotency?.sealed
    ? secretSealer(config.ADMIN_TOKEN, r.idempotency.sealed.purpose)
    : undefined;
  const sealedFields = r.idempotency?.sealed?.fields ?? [];
  const mapFields = (body: unknown, fn: (v: string) => string) => {
    if (!body || typeof body !== 'object') return body;
    const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const f of sealedFields) if (typeof out[f] === 'string') out[f] = fn(out[f] as string);
    return out;
  };

  app.route({
    method: def.method,
    url: def.path.slice(prefix.length) || '/',
    schema: r.validateBody === false ? routeSchema({ ...def, body: undefined }) : routeSchema(def),
    config: { auth: def.auth },
    onRequest: async (request, reply) => {
      const caller = options.authenticate
        ? await options.authenticate(request, reply, ctx)
        : checkCaller(def.auth, request.caller);
      callers.set(request, caller);
      await options.onRequest?.(request, reply, ctx);
    },
    handler: async (request, reply) => {
      const input = {
        params: request.params,
        query: request.query,
        body: request.body,
        headers: request.headers,
        caller: callers.get(request),
        ctx,
        requestId: request.id,
        request,
        reply,
        respond: (s: number, body: unknown) => new Answer(s, body),
      };
      if (!r.idempotency) return send(reply, await r.handler(input as never), status);
      const caller = input.caller as Caller;
      const header = request.headers['idempotency-key'];
      const afterCommit: Array<() => unknown> = [];
      const stored = await idempotent(
        deps.pool,
        manifest.schema,
        {
          scope:
            caller.kind === 'partner' ? caller.partnerId : caller.kind === 'admin' ? 'operator' : 'anonymous',
          key: typeof header === 'string' && header !== '' ? header : undefined,
          operation: def.operationId,
          request: { ...(request.params as object), ...(def.body ? (request.body as object) : {}) },
        },
        async (tx) => {
          afterCommit.length = 0; // a deadlock retry runs the work again
          const result = await r.handler({
            ...input,
            tx,
            afterCommit: (fn: () => unknown) => afterCommit.push(fn),
          } as never);
          const answered = result instanceof Answer ? result : new Answer(status, result);
          return {
            status: answered.status,
            body: sealer ? mapFields(answered.body, sealer.seal) : answered.body,
          };
        },
      );
      for (const fn of afterCommit) {
        // Committed already: a failure here is logged, never turned into a failed answer.
        await Promise.resolve()
          .then(fn)
          .catch((err) => request.log.warn({ err }, 'after-commit work failed'));
      }
      if (stored.replayed) reply.header('Idempotent-Replayed', 'true');
      const body = sealer ? mapFields(stored.body, sealer.open) : stored.body;
      return stored.status === 204 ? reply.code(204).send() : reply.code(stored.status).send(body);
    },
  });
}

// ------------------------------------------------------------------------------------------- messaging

async function startConsumer<Ctx>(
  c: ManifestConsumer<Ctx>,
  ctx: Ctx,
  deps: ServiceDeps,
  prefix: string,
  telemetry: Telemetry,
): Promise<EventConsumer> {
  const bySubject = c.events ? new Map(c.events.map((e) => [e.subject, e])) : undefined;
  /** The event's data as the handler takes it, or undefined when this consumer skips it. */
  const eventData = (subject: string, envelope: EventEnvelope): { data: unknown } | undefined => {
    if (!bySubject) return { data: envelope.data };
    const def = bySubject.get(subject);
    if (!def) return undefined; // another event under the filter: not this consumer's
    const parsed = def.data.safeParse(envelope.data);
    if (!parsed.success) {
      // Redelivering a malformed event cannot fix it; skip it loudly rather than block the stream.
      deps.log.error({ subject, id: envelope.id, issues: parsed.error.issues }, 'malformed event skipped');
      return undefined;
    }
    return { data: parsed.data };
  };
  const { handleGroup } = c;
  return consumeEvents({
    nc: deps.nc,
    prefix,
    durable: c.durable,
    filter: c.filter,
    log: deps.log,
    async handle(subject, envelope) {
      const event = eventData(subject, envelope);
      if (!event) return;
      await telemetry.time('consumer', c.durable, () => c.handle(event.data, { subject, envelope }, ctx));
    },
    handleGroup:
      handleGroup &&
      (async (received) => {
        const group = received.flatMap(({ subject, envelope }) => {
          const event = eventData(subject, envelope);
          return event ? [{ data: event.data, meta: { subject, envelope } }] : [];
        });
        if (group.length === 0) return;
        await telemetry.time('consumer', c.durable, () => handleGroup(group, ctx), group.length);
      }),
  });
}

// ------------------------------------------------------------------------------------------------ jobs

/**
 * One scheduler entry per job name, however many instances upsert it. Nothing waits for Redis: a
 * service starts while Redis is down (readiness reports it); the upsert is retried in the background.
 */
async function upsertScheduler<Ctx>(
  queue: Queue,
  j: ManifestJob<Ctx>,
  every: number,
  log: App['log'],
  closing: () => boolean,
  stopped: Promise<void>,
): Promise<void> {
  for (let attempt = 0; !closing(); attempt++) {
    try {
      await Promise.race([
        queue.upsertJobScheduler(
          j.name,
          { every },
          { name: j.name, data: {}, opts: { removeOnComplete: 100, removeOnFail: 500 } },
        ),
        stopped,
      ]);
      return;
    } catch (err) {
      if (closing()) return;
      if (attempt === 0) log.warn({ err, job: j.name }, 'cannot schedule the job yet; retrying');
      await Promise.race([new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt))), stopped]);
    }
  }
}

/**
 * Closing a worker waits for its running job, bounded: BullMQ's `Worker.close()` never resolves while its
 * blocking connection is stuck reconnecting (taskforcesh/bullmq#4656, open), which after a Redis outage
 * would hold the whole shutdown. Past the grace the worker is force-closed and shutdown goes on; a job
 * cut short is retried from its last committed step (every job here is resumable or idempotent).
 */
export const WORKER_CLOSE_GRACE_MS = 8_000;
async function closeWorker(w: Worker, log: App['log']): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), WORKER_CLOSE_GRACE_MS);
  });
  const closed = w.close().then(() => 'closed' as const);
  const outcome = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log.warn({ queue: w.name }, 'worker did not close in time (Redis connection stuck); forcing');
    void w.close(true).catch(() => {});
    void closed.catch(() => {});
  }
}

function startWorker(
  queue: string,
  concurrency: number,
  name: string,
  connection: Redis,
  config: Config,
  log: App['log'],
  telemetry: Telemetry,
  run: (job: Job) => Promise<unknown>,
  failed?: (job: Job, err: Error) => Promise<void>,
): Worker {
  const w = new Worker(queue, (job) => telemetry.time('job', name, () => run(job)), {
    connection,
    prefix: bullPrefix(config),
    concurrency,
  });
  w.on('failed', (job, err) => {
    log.warn({ err, job: job?.id, queue }, 'job failed');
    if (job && failed)
      void failed(job, err).catch((e) => log.error({ err: e, queue }, 'failure hook failed'));
  });
  w.on('error', (err) => log.warn({ err, queue }, 'worker error'));
  return w;
}

function parsePayload<Ctx>(w: ManifestWorker<Ctx>, job: Job): unknown {
  const schema = (jobSchemas as Record<string, import('zod').ZodType | undefined>)[w.queue];
  if (!schema) return job.data;
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`bad ${w.queue} payload`);
  return parsed.data;
}

// --------------------------------------------------------------------------------------------- metrics

interface Telemetry {
  /** Times `fn`, which handles `count` tasks (a consumer's group of events) in one go. */
  time<T>(
    kind: 'job' | 'consumer' | 'responder',
    name: string,
    fn: () => Promise<T>,
    count?: number,
  ): Promise<T>;
}

/** Duration and outcome of every job run, consumed event and answered command. */
function backgroundMetrics(app: App): Telemetry {
  const duration = new Histogram({
    name: 'background_task_duration_seconds',
    help: 'Duration of jobs, consumed events and answered commands by kind, name and outcome',
    labelNames: ['kind', 'name', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
    registers: [app.metrics],
  });
  const total = new Counter({
    name: 'background_tasks_total',
    help: 'Jobs, consumed events and answered commands by kind, name and outcome',
    labelNames: ['kind', 'name', 'outcome'] as const,
    registers: [app.metrics],
  });
  return {
    async time(kind, name, fn, count = 1) {
      const started = performance.now();
      let outcome = 'ok';
      try {
        return await fn();
      } catch (err) {
        outcome = 'error';
        throw err;
      } finally {
        duration.observe({ kind, name, outcome }, (performance.now() - started) / 1000);
        total.inc({ kind, name, outcome }, count);
      }
    },
  };
}
