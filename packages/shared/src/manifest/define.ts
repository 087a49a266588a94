// The manifest of a service: everything it is, in one list. `defineService` names the service, its
// database schema, its port and migrations, the context its handlers share, and its routes (a contract
// route + a typed handler), NATS responders and consumers, and BullMQ jobs and workers. buildService
// (build.ts) does all the wiring once; nothing here touches fastify, NATS or BullMQ at runtime.
import type { Job } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { RouteAuth, RouteDef } from '../contract/common.ts';
import type { MigrationSet, PoolClient } from '../db.ts';
import type { App, Caller, ErrorDialect, ReadinessCheck } from '../http.ts';
import type { Logger, LogStream } from '../logger.ts';
import type { CommandName, EventEnvelope } from '../messages.ts';
import type { CommandClient, CommandHandler } from '../nats.ts';
import type { OutboxRelay } from '../outbox.ts';
import type { JobPayload, jobSchemas } from '../queues.ts';
import type { ServiceDeps } from '../service.ts';

// ---------------------------------------------------------------------------------------------- routes

export type PartnerCaller = { kind: 'partner'; partnerId: string };
export type AdminCaller = { kind: 'admin' };

/** The caller a handler receives, narrowed by its route's `auth` (checked before the handler runs). */
export type CallerOf<A extends RouteAuth> = A extends 'partner'
  ? PartnerCaller
  : A extends 'admin'
    ? AdminCaller
    : A extends 'partner-or-admin'
      ? PartnerCaller | AdminCaller
      : Caller;

type Parsed<R, K extends string> = R extends { [P in K]: infer S extends z.ZodType }
  ? z.output<S>
  : undefined;
type ResponseMap<R> = R extends { response: infer M } ? M : never;
/** The success statuses a route's contract declares. */
export type StatusOf<R> = keyof ResponseMap<R> & number;
/** The body the contract declares for `status` (what the handler supplies: the schema's input). */
export type BodyAt<R, S extends number> =
  ResponseMap<R> extends Record<S, infer T extends z.ZodType> ? z.input<T> : never;
/** Any success body of the route. */
export type ResponseBody<R> = { [S in StatusOf<R>]: BodyAt<R, S> }[StatusOf<R>];

/** An answer with an explicit status (and optionally a content type), made by `respond`/`answer`. */
export class Answer {
  readonly status: number;
  readonly body: unknown;
  readonly contentType: string | undefined;
  constructor(status: number, body: unknown, contentType?: string) {
    this.status = status;
    this.body = body;
    this.contentType = contentType;
  }
}

/**
 * An answer outside the contract's success map, e.g. a problem document returned (not thrown) with its
 * own status. Prefer throwing AppError; this is for answers that are recorded and replayed as they are.
 */
export function answer(status: number, body: unknown, contentType?: string): Answer {
  return new Answer(status, body, contentType);
}

export interface RouteInput<R extends RouteDef, Ctx, C> {
  params: Parsed<R, 'params'>;
  query: Parsed<R, 'querystring'>;
  body: Parsed<R, 'body'>;
  headers: Parsed<R, 'headers'>;
  /** Who is calling, already checked against the route's `auth` (or its own `authenticate`). */
  caller: C;
  ctx: Ctx;
  /** The request id (X-Request-Id). */
  requestId: string;
  request: FastifyRequest;
  reply: FastifyReply;
  /** A contract answer with a status other than the route's first (typed by the contract). */
  respond<S extends StatusOf<R>>(status: S, body: BodyAt<R, S>): Answer;
}

/**
 * What a handler returns: a body of the route's first success status, an Answer (`respond(201, …)`,
 * or `answer(…)` for a recorded problem), or nothing for a 204 route.
 */
export type RouteResult<R> = ResponseBody<R> | Answer | (204 extends StatusOf<R> ? undefined : never);

export type Handler<R extends RouteDef, Ctx, C = CallerOf<R['auth']>> = (
  input: RouteInput<R, Ctx, C>,
) => Promise<RouteResult<R>>;

/**
 * A handler run inside `idempotent()`: `tx` is the transaction its stored answer commits with;
 * `afterCommit` work (nudge the relay, enqueue a job) runs once it committed, not on a replay.
 */
export type IdempotentHandler<R extends RouteDef, Ctx, C = CallerOf<R['auth']>> = (
  input: RouteInput<R, Ctx, C> & {
    tx: PoolClient;
    afterCommit(fn: () => Promise<unknown> | unknown): void;
  },
) => Promise<ResponseBody<R> | Answer>;

export interface RouteOptions<Ctx, C> {
  /**
   * Replaces the standard caller check: runs before the body is read (onRequest), may charge budgets
   * and throws to refuse; what it returns is the handler's `caller` (redemption's device keys).
   */
  authenticate?: (request: FastifyRequest, reply: FastifyReply, ctx: Ctx) => Promise<C>;
  /** Runs before the body is read, after the caller check (e.g. a per-client budget). */
  onRequest?: (request: FastifyRequest, reply: FastifyReply, ctx: Ctx) => Promise<void>;
}

export interface IdempotencyOptions {
  /**
   * Secret fields of the answer (a new API or device key): stored sealed with a key derived from
   * ADMIN_TOKEN for `purpose`, opened only for the answer sent.
   */
  sealed?: { fields: string[]; purpose: string };
}

export interface ManifestRoute<Ctx> {
  kind: 'route';
  def: RouteDef;
  handler: (input: RouteInput<RouteDef, Ctx, unknown> & { tx?: PoolClient }) => Promise<unknown>;
  options: RouteOptions<Ctx, unknown>;
  idempotency?: IdempotencyOptions;
  /** False when the handler validates the body itself (the contract's body schema only documents it). */
  validateBody?: boolean;
}

/** A contract route and its handler; auth comes from `def.auth` (or `options.authenticate`). */
export function route<const R extends RouteDef, Ctx, C = CallerOf<R['auth']>>(
  def: R,
  handler: Handler<R, Ctx, C>,
  options: RouteOptions<Ctx, C> = {},
): ManifestRoute<Ctx> {
  return { kind: 'route', def, handler: handler as never, options: options as never };
}

/** A handler that validates the body itself: it gets the body as sent. */
export type OwnBodyHandler<R extends RouteDef, Ctx, C = CallerOf<R['auth']>> = (
  input: Omit<RouteInput<R, Ctx, C>, 'body'> & { body: unknown },
) => Promise<RouteResult<R>>;

/**
 * A route whose body is validated by the handler with schemas of its own (OCTO's, from
 * @octocloud/types, whose refusals have OCTO's shape): the contract's body schema documents it only.
 * Params, query and headers are still validated from the contract.
 */
export function ownBodyRoute<const R extends RouteDef, Ctx, C = CallerOf<R['auth']>>(
  def: R,
  handler: OwnBodyHandler<R, Ctx, C>,
  options: RouteOptions<Ctx, C> = {},
): ManifestRoute<Ctx> {
  return { kind: 'route', def, handler: handler as never, options: options as never, validateBody: false };
}

/**
 * A route that creates something and honours Idempotency-Key: the handler runs in a transaction that
 * also stores its answer under (caller, key); a repeat gets the stored answer (with
 * `Idempotent-Replayed: true`), another body with the same key 422. The scope is the partner (or
 * `operator`); the request hashed is params + body.
 */
export function idempotentRoute<const R extends RouteDef, Ctx, C = CallerOf<R['auth']>>(
  def: R,
  handler: IdempotentHandler<R, Ctx, C>,
  options: RouteOptions<Ctx, C> & IdempotencyOptions = {},
): ManifestRoute<Ctx> {
  const { sealed, ...rest } = options;
  return {
    kind: 'route',
    def,
    handler: handler as never,
    options: rest as never,
    idempotency: sealed ? { sealed } : {},
  };
}

/**
 * Routes sharing an encapsulated fastify scope: a path prefix (stripped from the contract paths), and
 * a `setup` for what only they need (their own error shape, body parser, scope-wide hooks).
 */
export interface RouteGroup<Ctx> {
  kind: 'group';
  prefix?: string;
  setup?: (scope: FastifyInstance, ctx: Ctx) => void | Promise<void>;
  routes: ManifestRoute<Ctx>[];
}

export function group<Ctx>(opts: Omit<RouteGroup<Ctx>, 'kind'>): RouteGroup<Ctx> {
  return { kind: 'group', ...opts };
}

// ------------------------------------------------------------------------------------------- messaging

export interface ManifestResponder<Ctx> {
  command: CommandName;
  handler: (request: never, ctx: Ctx) => Promise<unknown>;
}

/** Answers a NATS command (queue group = the service name, so replicas share the load). */
export function responder<N extends CommandName, Ctx>(
  command: N,
  handler: (request: Parameters<CommandHandler<N>>[0], ctx: Ctx) => ReturnType<CommandHandler<N>>,
): ManifestResponder<Ctx> {
  return { command, handler: handler as never };
}

interface EventDef {
  subject: string;
  data: z.ZodType;
}

export interface EventMeta {
  subject: string;
  envelope: EventEnvelope;
}

/** One event of a group, as `handleGroup` receives it. */
export interface GroupedEvent<D = unknown> {
  data: D;
  meta: EventMeta;
}

export interface ManifestConsumer<Ctx> {
  durable: string;
  filter: string;
  events?: readonly EventDef[];
  handle: (data: unknown, meta: EventMeta, ctx: Ctx) => Promise<void>;
  handleGroup?: (events: GroupedEvent[], ctx: Ctx) => Promise<void>;
}

/**
 * A durable JetStream consumer (at-least-once: the handler must be idempotent). With `events`, subjects
 * not listed are skipped and each event's data is parsed with its schema (a malformed one is skipped
 * loudly: redelivery cannot fix it); without, `data` is the envelope's data as sent.
 *
 * `handle` takes one event at a time. `handleGroup` instead takes the events that arrived while the
 * previous group was handled (one when the stream is quiet, up to 100 when busy), in stream order, so
 * it can apply them in one transaction; a group that fails is retried event by event, each alone.
 */
export function consumer<Ctx, const E extends readonly EventDef[] = readonly EventDef[]>(
  opts: {
    durable: string;
    /** Relative filter, e.g. `events.issuance.>` (one per consumer). */
    filter: string;
    events?: E;
  } & (
    | { handle: (data: z.output<E[number]['data']>, meta: EventMeta, ctx: Ctx) => Promise<void> }
    | { handleGroup: (events: GroupedEvent<z.output<E[number]['data']>>[], ctx: Ctx) => Promise<void> }
  ),
): ManifestConsumer<Ctx> {
  if ('handle' in opts) return opts as never;
  const { handleGroup } = opts;
  return {
    ...opts,
    handle: (data, meta, ctx) => handleGroup([{ data, meta }] as never, ctx),
    handleGroup: handleGroup as never,
  };
}

// ------------------------------------------------------------------------------------------------ jobs

type Unit = 'ms' | 's' | 'm' | 'h' | 'd';
/** How often: milliseconds, `'30s'`, `'5m'`, `'1h'`, or from the configuration. */
export type Every = number | `${number}${Unit}` | ((config: Config) => number);

export interface ManifestJob<Ctx> {
  kind: 'job';
  name: string;
  queue: string | undefined;
  every: Every;
  run: (ctx: Ctx, info: JobInfo) => Promise<unknown>;
}

export interface JobInfo {
  /** BullMQ's id of this run: one per scheduled iteration, whichever instance runs it. */
  id: string;
  /** When the scheduler created this run. */
  scheduledFor: Date;
}

/**
 * A periodic task: one BullMQ job scheduler (upserted by name, so N replicas keep one schedule) and a
 * worker; each iteration runs once, on whichever instance takes it. Its queue is
 * `<service>-<name>` unless named (never rename a live queue).
 */
export function job<Ctx>(opts: {
  name: string;
  every: Every;
  queue?: string;
  run: (ctx: Ctx, info: JobInfo) => Promise<unknown>;
}): ManifestJob<Ctx> {
  return { kind: 'job', name: opts.name, queue: opts.queue, every: opts.every, run: opts.run };
}

type PayloadOf<Q extends string> = Q extends keyof typeof jobSchemas ? JobPayload<Q> : unknown;

export interface ManifestWorker<Ctx> {
  kind: 'worker';
  queue: string;
  concurrency: number | ((config: Config) => number);
  run: (data: unknown, job: Job, ctx: Ctx) => Promise<unknown>;
  failed?: (job: Job, err: Error, ctx: Ctx) => Promise<void>;
}

/**
 * A worker of a BullMQ queue that something enqueues (`svc.queue(name)` in the context). A queue of
 * the catalog (queues.ts) has its payload parsed; a bad payload fails without retries.
 */
export function worker<Ctx, const Q extends string = string>(opts: {
  queue: Q;
  concurrency?: number | ((config: Config) => number);
  run: (data: PayloadOf<Q>, job: Job, ctx: Ctx) => Promise<unknown>;
  /** After each failed attempt (BullMQ's `failed` event), e.g. to record the final one. */
  failed?: (job: Job, err: Error, ctx: Ctx) => Promise<void>;
}): ManifestWorker<Ctx> {
  return {
    kind: 'worker',
    queue: opts.queue,
    concurrency: opts.concurrency ?? 1,
    run: opts.run as never,
    ...(opts.failed ? { failed: opts.failed } : {}),
  };
}

// --------------------------------------------------------------------------------------------- service

/** What the context builder may use and register (the framework owns their lifecycle). */
export interface ServiceKit<O> {
  app: App;
  log: Logger;
  metrics: Registry;
  /** Commands to other services (SERVICE_UNAVAILABLE on timeout or no responder). */
  commands: CommandClient;
  /** The outbox relay (only with `outbox: true`); kick it after a commit that wrote events. */
  relay: OutboxRelay;
  /** A BullMQ queue to enqueue into (closed at shutdown). */
  queue(name: string): import('bullmq').Queue;
  /** The Redis connection BullMQ objects share (blocking kind). */
  bullConnection(): Redis;
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  /** Called at shutdown, after HTTP, consumers, workers and the relay stopped (last added, first run). */
  onClose(fn: () => Promise<void> | void): void;
  /** The build options beyond logging (a test's route catalogue, the gateway's apps directory). */
  options: O;
}

export interface ServiceManifest<Ctx, O = Record<never, never>> {
  name: string;
  /** The database schema: tables, outbox and idempotency keys live there. */
  schema: string;
  port: (config: Config) => number;
  migrations: MigrationSet;
  /** The public edge authenticates callers itself (caller headers are ignored, not verified). */
  edge?: boolean;
  /** Paths answered in another error shape than problem+json (OCTO's), router refusals included. */
  errorDialects?: readonly ErrorDialect[];
  /**
   * Events are written through the outbox in `schema` and relayed by this service (`batchSize`: rows per
   * relay pass, smaller when each row is large).
   */
  outbox?: boolean | { batchSize: number };
  context: (config: Config, deps: ServiceDeps, kit: ServiceKit<O>) => Promise<Ctx> | Ctx;
  /** fastify plugins registered before the routes, in order (the gateway's access control, docs…). */
  plugins?: Array<(app: App, ctx: Ctx) => unknown>;
  routes?: Array<ManifestRoute<Ctx> | RouteGroup<Ctx>>;
  responders?: ManifestResponder<Ctx>[];
  consumers?: ManifestConsumer<Ctx>[];
  jobs?: Array<ManifestJob<Ctx> | ManifestWorker<Ctx>>;
}

export function defineService<Ctx, O = Record<never, never>>(
  manifest: ServiceManifest<Ctx, O>,
): ServiceManifest<Ctx, O> {
  return manifest;
}

export type BuildOptions<O> = {
  logger?: boolean;
  logStream?: LogStream;
  /** Run the manifest's jobs and workers in this process; config.RUN_WORKERS unless given. */
  workers?: boolean;
} & O;
