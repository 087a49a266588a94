// The fastify base every service builds on: request ids, zod validation, problem+json errors,
// health/readiness/metrics, and the caller identity the gateway forwards in internal headers.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Config } from './config.ts';
import { AppError, type FieldError } from './errors.ts';
import { type LogStream, loggerOptions } from './logger.ts';

export const HEADER = {
  requestId: 'x-request-id',
  internalToken: 'x-internal-token',
  callerKind: 'x-caller-kind',
  partnerId: 'x-partner-id',
  deviceId: 'x-device-id',
} as const;

export type Caller =
  | { kind: 'partner'; partnerId: string }
  | { kind: 'admin' }
  | { kind: 'device'; deviceId: string }
  | { kind: 'anonymous' };

export type ReadinessCheck = () => Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, as vouched for by the gateway; `anonymous` when no trusted headers came along. */
    caller: Caller;
    /**
     * True when the gateway forwarded this request (its internal credentials are valid): it has
     * already applied the edge's limits, and its X-Forwarded-For names the client
     * (`ClientBudgets.clientIp`).
     */
    viaGateway: boolean;
  }
  interface FastifyInstance {
    metrics: Registry;
    /** Adds a named dependency check to /readyz. */
    addReadinessCheck(name: string, check: ReadinessCheck): void;
  }
}

export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ServiceAppOptions {
  service: string;
  config: Config;
  /** Fastify's own options passed through (e.g. `logger: false` in tests). */
  logger?: boolean;
  /** Where log lines go instead of stdout (a test reads them back). */
  logStream?: LogStream;
  bodyLimit?: number;
}

const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Builds the un-listened fastify instance with everything every service shares. */
export function createServiceApp(opts: ServiceAppOptions): App {
  const { config, service } = opts;
  const app = Fastify({
    logger:
      opts.logger === false
        ? false
        : { ...loggerOptions(config, service), ...(opts.logStream ? { stream: opts.logStream } : {}) },
    bodyLimit: opts.bodyLimit ?? config.BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers[HEADER.requestId];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ajv: undefined,
    // The client IP (request.ip) comes from X-Forwarded-For only when the peer is a trusted proxy.
    trustProxy: config.TRUSTED_PROXIES.trim() === '' ? false : config.TRUSTED_PROXIES,
    // The router's own refusals (a malformed URL, a path segment over maxParamLength) come before any
    // hook: without this they would be fastify's JSON (414 FST_ERR_MAX_PARAM_LENGTH), not problem+json.
    frameworkErrors: (error, request, reply) => {
      const appError =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError('NOT_FOUND', 'No such resource')
          : error.code === 'FST_ERR_BAD_URL'
            ? new AppError('VALIDATION_FAILED', 'The request URL is malformed')
            : new AppError('INTERNAL_ERROR', 'An unexpected error occurred');
      reply.header('X-Request-Id', request.id);
      sendProblem(reply, request, appError);
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Slow clients: a request whose headers do not arrive in 10 s is dropped.
  app.server.headersTimeout = 10_000;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.decorateRequest('caller', null as never);
  app.decorateRequest('viaGateway', false);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    request.viaGateway = fromGateway(request, config.INTERNAL_TOKEN);
    request.caller = request.viaGateway ? callerFromHeaders(request) : { kind: 'anonymous' };
  });

  installErrorHandling(app);
  installOperations(app, service);
  return app as unknown as App;
}

/** Whether the request carries the gateway's proof (today the shared internal token). */
function fromGateway(request: FastifyRequest, internalToken: string): boolean {
  const token = request.headers[HEADER.internalToken];
  return typeof token === 'string' && safeEqual(token, internalToken);
}

/** The identity in the internal headers of a request proven to come from the gateway. */
function callerFromHeaders(request: FastifyRequest): Caller {
  const kind = request.headers[HEADER.callerKind];
  const partnerId = request.headers[HEADER.partnerId];
  const deviceId = request.headers[HEADER.deviceId];
  if (kind === 'partner' && typeof partnerId === 'string') return { kind: 'partner', partnerId };
  if (kind === 'admin') return { kind: 'admin' };
  if (kind === 'device' && typeof deviceId === 'string') return { kind: 'device', deviceId };
  return { kind: 'anonymous' };
}

/** The calling partner's id, or 401 when the request did not come through the gateway as a partner. */
export function requirePartner(request: FastifyRequest): string {
  if (request.caller.kind !== 'partner') throw new AppError('UNAUTHORIZED', 'A partner API key is required');
  return request.caller.partnerId;
}

export function requireAdmin(request: FastifyRequest): void {
  if (request.caller.kind !== 'admin') throw new AppError('UNAUTHORIZED', 'The operator token is required');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  return reply.code(err.status).type('application/problem+json').send(err.toProblem(request.id));
}

function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    sendProblem(
      reply,
      request,
      new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (reply.raw.destroyed || reply.raw.socket?.destroyed) {
      // The client hung up first (and its upstream call was cancelled): nothing failed on our side.
      request.log.info({ code: appError.code }, 'client went away before the answer');
    } else if (appError.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    } else if (appError.status !== 404) {
      request.log.info({ code: appError.code, detail: appError.message }, 'request refused');
    }
    return sendProblem(reply, request, appError);
  });
}

/** Maps anything thrown in a request to the contract's error; 5xx never carry internals. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & { issues?: unknown };
  // PostgreSQL cannot store some characters (a NUL byte above all); whatever field carried one, it is
  // the caller's input that is wrong, so the answer is 400 and the transaction has rolled back.
  const sqlState = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  if (sqlState === '22021' || sqlState === '22P05') {
    return new AppError(
      'VALIDATION_FAILED',
      'The request contains a character that cannot be stored (such as NUL)',
    );
  }
  // A safety net behind the contract's date range: a date or time PostgreSQL cannot represent
  // (22007 bad format, 22008 out of range, 22009 bad time zone) came from the caller's input.
  if (sqlState === '22007' || sqlState === '22008' || sqlState === '22009') {
    return new AppError('VALIDATION_FAILED', 'A date or time in the request is out of range');
  }
  if (hasZodFastifySchemaValidationErrors(e)) {
    const errors: FieldError[] = e.validation.map((v) => ({
      // fastify-type-provider-zod 6 reports the issue's path as a JSON pointer (`/items/0/quantity`).
      path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: v.message ?? 'is invalid',
    }));
    const where = e.validationContext ? ` in ${e.validationContext}` : '';
    return new AppError('VALIDATION_FAILED', `The request is invalid${where}`, { errors });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('VALIDATION_FAILED', 'The JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('VALIDATION_FAILED', 'The body is not valid JSON');
  }
  if (error instanceof SyntaxError || e?.statusCode === 400) {
    return new AppError('VALIDATION_FAILED', 'The body is not valid JSON');
  }
  if (e?.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (e?.statusCode === 415)
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
  if (e?.statusCode === 404) return new AppError('NOT_FOUND');
  if (e?.statusCode === 405) return new AppError('METHOD_NOT_ALLOWED');
  if (isUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'A dependency is unavailable; retry shortly');
  return new AppError('INTERNAL_ERROR', 'An unexpected error occurred');
}

/** Connection-level failures of PostgreSQL, Redis or NATS: the caller may retry. */
function isUnavailable(error: unknown, depth = 0): boolean {
  const e = error as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!e) return false;
  // drizzle wraps driver errors (DrizzleQueryError) with the pg error as `cause`.
  if (e.cause && depth < 3 && isUnavailable(e.cause, depth + 1)) return true;
  const codes = [
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    '57P01',
    '57P03',
    '53300',
    'CONNECTION_CLOSED',
    'TIMEOUT',
    '503',
  ];
  if (e.code && codes.includes(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Connection is closed|no responders/i.test(
    e.message ?? '',
  );
}

function installOperations(app: FastifyInstance, service: string): void {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.decorate('metrics', registry);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const checks = new Map<string, ReadinessCheck>();
  app.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => {
    checks.set(name, check);
  });

  const hide = { hide: true } as const;
  app.get('/healthz', { schema: hide }, async () => ({ status: 'ok', service }));
  app.get('/readyz', { schema: hide }, async (_request, reply) => {
    const results = await Promise.all(
      [...checks].map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2_000, `${name} check timed out`);
          return [name, { status: 'ok' }] as const;
        } catch (err) {
          return [name, { status: 'down', error: (err as Error).message }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.status === 'ok');
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unavailable', service, checks: Object.fromEntries(results) };
  });
  app.get('/metrics', { schema: hide }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
