// The fastify base every service builds on: request ids, zod validation, problem+json errors,
// health/readiness/metrics, and the caller identity the gateway forwards in internal headers.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from './config.ts';
import { AppError, type ErrorCode, type FieldError, toProblem } from './errors.ts';
import { claimsIdentity, INTERNAL_HEADER, verifyInternalRequest } from './internal-auth.ts';
import { type Logger, type LogStream, logDestination, loggerOptions } from './logger.ts';

export const HEADER = {
  requestId: 'x-request-id',
  callerKind: 'x-caller-kind',
  partnerId: 'x-partner-id',
  deviceId: 'x-device-id',
  internalSignature: INTERNAL_HEADER.signature,
  internalTimestamp: INTERNAL_HEADER.timestamp,
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
  /**
   * `verify` (services): caller headers count only with the gateway's signature, and a request that
   * claims an identity without proving it is refused with 401. `ignore` (the gateway, the public edge):
   * callers prove themselves with credentials, and any caller headers they send are dropped unread.
   */
  callerHeaders?: 'verify' | 'ignore';
  /** Paths whose clients read another error shape: the router's own refusals are rendered in it too. */
  errorDialects?: readonly ErrorDialect[];
}

/** An error shape other than problem+json for the paths under `prefix` (OCTO's `{ error, errorMessage }`). */
export interface ErrorDialect {
  prefix: string;
  render(code: ErrorCode, status: number, message: string): { status: number; body: unknown };
}

const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Fastify's logger options: the given stream (tests), else pretty text on a terminal, else JSON. */
function fastifyLogger(config: Config, service: string, given?: LogStream) {
  const stream = given ?? logDestination();
  return stream ? { ...loggerOptions(config, service), stream } : loggerOptions(config, service);
}

/** Builds the un-listened fastify instance with everything every service shares. */
export function createServiceApp(opts: ServiceAppOptions): App {
  const { config, service } = opts;
  const app = Fastify({
    logger: opts.logger === false ? false : fastifyLogger(config, service, opts.logStream),
    logController: new OutcomeLogController(),
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
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => {
      const appError =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError('NOT_FOUND', 'No such resource')
          : error.code === 'FST_ERR_BAD_URL'
            ? new AppError('VALIDATION_FAILED', 'The request URL is malformed')
            : new AppError('INTERNAL_ERROR', 'An unexpected error occurred');
      reply.header('X-Request-Id', request.id);
      const dialect = opts.errorDialects?.find((d) => request.url.startsWith(d.prefix));
      if (!dialect) return sendProblem(reply, request, appError);
      const { status, body } = dialect.render(appError.code, appError.status, appError.message);
      const plain: FastifyReply = reply;
      return plain.code(status).type('application/json').send(body);
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Slow clients: a request whose headers do not arrive in 10 s is dropped.
  app.server.headersTimeout = 10_000;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.decorateRequest('caller', null as never);
  app.decorateRequest('viaGateway', false);
  const verifyCallers = (opts.callerHeaders ?? 'verify') === 'verify';
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    const proven = verifyCallers ? provenCaller(request, config) : null;
    request.viaGateway = proven !== null;
    request.caller = proven ?? { kind: 'anonymous' };
  });

  installErrorHandling(app);
  installRefusedBodyDrain(app);
  installOperations(app, service, config);
  return app as unknown as App;
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (a bare LF in the headers, headers over
 * the size limit, Content-Length together with Transfer-Encoding): answered as problem+json with a
 * request id of their own, written straight to the socket, which then closes (its framing is unknown).
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['REQUEST_HEADERS_TOO_LARGE', 'The request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'The request did not arrive in time']
        : ['VALIDATION_FAILED', 'The request is not well-formed HTTP/1.1'];
  const requestId = randomUUID();
  const problem = toProblem(code, detail, requestId);
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.end();
}

/** Of a refused body, at most this much is read and discarded so the client can read the 413. */
export const REFUSED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;
/** ...for at most this long; then the connection is dropped. */
const REFUSED_BODY_LINGER_MS = 10_000;

/**
 * A body over the limit is refused from its Content-Length before it is read (fastify's parser), or as
 * soon as it grows past the limit. Closing the connection at once while the client is still sending
 * makes the kernel reset it, and the client sees EPIPE/ECONNRESET instead of the 413. So the refused
 * rest is read and thrown away (bounded in bytes and time), and a connection whose whole body was
 * drained stays usable; beyond the bounds it is closed.
 */
function installRefusedBodyDrain(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 413 || request.raw.complete) return payload;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared <= REFUSED_BODY_DRAIN_BYTES) {
      // The parser asked for `connection: close`; the whole body will be read, so keep-alive is safe.
      reply.removeHeader('connection');
    } else {
      reply.header('connection', 'close');
    }
    discardRest(request.raw);
    return payload;
  });
}

function discardRest(req: FastifyRequest['raw']): void {
  const socket = req.socket;
  let seen = 0;
  const drop = () => socket.destroy();
  const timer = setTimeout(drop, REFUSED_BODY_LINGER_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > REFUSED_BODY_DRAIN_BYTES) {
      clearTimeout(timer);
      req.off('data', onData);
      drop();
    }
  };
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * The caller the gateway vouches for, or null when the request claims nothing (a scanner calling
 * redemption's public routes directly). Identity headers without a valid, fresh signature over this very
 * request: 401, on every route, so a forged or replayed identity is never silently downgraded or trusted.
 * A signed request without an identity (a public route forwarded by the gateway) is anonymous but
 * proven to come from the gateway.
 */
function provenCaller(
  request: FastifyRequest,
  config: Pick<Config, 'INTERNAL_TOKEN' | 'INTERNAL_TOKEN_GENERATED'>,
): Caller | null {
  if (!claimsIdentity(request.headers)) return null;
  const verdict = verifyInternalRequest(config.INTERNAL_TOKEN, request);
  if (!verdict.ok) {
    request.log.warn(
      { reason: verdict.reason, generatedSecret: config.INTERNAL_TOKEN_GENERATED },
      config.INTERNAL_TOKEN_GENERATED
        ? 'caller identity refused: this process generated its own INTERNAL_TOKEN, so nothing the gateway signs can verify; give every service the same INTERNAL_TOKEN'
        : 'caller identity refused: not signed by the gateway',
    );
    throw new AppError('UNAUTHORIZED', 'The caller identity is not proven');
  }
  const c = verdict.caller;
  return c.kind === 'none' ? { kind: 'anonymous' } : c;
}

/** The token of `Authorization: Bearer <token>`, or undefined when the header is missing or another scheme. */
export function bearerToken(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
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

/** Routes probed every few seconds by orchestrators and scrapers: never worth an info line. */
const PROBE_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One line per request instead of fastify's two ("incoming request" + "request completed", both at
 * info): successes and probes at debug (LOG_LEVEL=debug shows them), refusals (4xx) at info, failures
 * (5xx) at warn (the error handler has logged the error itself). Fastify's extension point for its
 * request lines, so its other lines (stream errors, 404s, closing) stay as they are.
 */
class OutcomeLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const status = reply.statusCode;
    // Successes never look at the route (fastify builds routeOptions anew on every access).
    const level =
      error || status >= 500
        ? 'warn'
        : status >= 400 && !PROBE_ROUTES.has(request.routeOptions.url ?? '')
          ? 'info'
          : 'debug';
    // Serialising the request costs more than the check: skip it when the level is off (the default
    // for successes), or when logging is off altogether (`logger: false` has no isLevelEnabled).
    const log = reply.log as Partial<Logger>;
    if (!log.isLevelEnabled?.(level)) return;
    reply.log[level](
      {
        req: request,
        res: reply,
        responseTime: Math.round(reply.elapsedTime * 10) / 10,
        err: error ?? undefined,
      },
      'request completed',
    );
  }
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

function installOperations(
  app: FastifyInstance,
  service: string,
  config: Pick<Config, 'METRICS_TOKEN'>,
): void {
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
  // The same checks as /readyz, run when Prometheus scrapes: alerts see which dependency is down.
  new Gauge({
    name: 'service_readiness_check',
    help: 'Readiness checks of this service (1 ok, 0 down), as /readyz reports them',
    labelNames: ['check'] as const,
    registers: [registry],
    async collect() {
      await Promise.all(
        [...checks].map(async ([name, check]) => {
          const ok = await withTimeout(check(), 2_000, `${name} check timed out`).then(
            () => 1,
            () => 0,
          );
          this.set({ check: name }, ok);
        }),
      );
    },
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
  app.get('/metrics', { schema: hide }, async (request, reply) => {
    // Required in production (config.ts): the metrics name routes, partners' volumes and the process.
    if (config.METRICS_TOKEN !== undefined) {
      const given = bearerToken(request) ?? '';
      if (!safeEqual(given, config.METRICS_TOKEN)) {
        throw new AppError('UNAUTHORIZED', 'Metrics need Authorization: Bearer <METRICS_TOKEN>');
      }
    }
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
