// Structured logs (pino, fastify's own logger) with the request id on every line of a request: JSON lines
// for machines (files, pipes, log collectors), coloured one-line-per-event text when a person watches a
// terminal (`LOG_FORMAT=pretty|json` forces either).
// A ticket code is the bearer secret of /qr/{code}/info and of manual entry, so what is written down
// about a request (log lines here, the gateway's audit rows) names its route and a hash of the code.
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';
import { sha256Hex } from './ids.ts';

export type { Logger };
/** Where log lines go instead of stdout (tests read them back). */
export type LogStream = DestinationStream;

/** A short, stable fingerprint of a ticket code: enough to find its lines, never enough to use it. */
export function ticketCodeHash(code: string): string {
  return `tc~${sha256Hex(code).slice(0, 12)}`;
}

/** Path parameters whose values are secrets and are written down only as their hash. */
const SECRET_PARAMS = new Set(['ticket_code']);
/** In a path no route matched, any segment this long might be a (mistyped) code. */
const MAX_PLAIN_SEGMENT = 11;

/** What a log line or audit row needs of a request; fastify's request has all of it. */
export interface LoggableRequest {
  url: string;
  params?: unknown;
  routeOptions?: { url?: string | undefined };
}

/**
 * The request's path as it may be written down: a matched route's template filled in with its
 * parameters except secret ones (`/qr/tc~3f9a…/info`); an unmatched path with its long segments hashed.
 * Never the query string.
 */
export function loggablePath(request: LoggableRequest): string {
  const template = request.routeOptions?.url;
  if (template) {
    const params = (request.params ?? {}) as Record<string, unknown>;
    return template.replace(/:(\w+)/g, (whole, name: string) => {
      const value = params[name];
      if (typeof value !== 'string') return whole;
      return SECRET_PARAMS.has(name) ? ticketCodeHash(value) : encodeURIComponent(value);
    });
  }
  const path = request.url.split('?', 1)[0]!.slice(0, 2048);
  return path
    .split('/')
    .map((segment) => (segment.length > MAX_PLAIN_SEGMENT ? ticketCodeHash(segment) : segment))
    .join('/');
}

/** The hashes of the secret parameters of a matched request, e.g. `{ ticket: 'tc~3f9a…' }`. */
function secretHashes(request: LoggableRequest): { ticket?: string } {
  const code = (request.params as Record<string, unknown> | undefined)?.ticket_code;
  return typeof code === 'string' ? { ticket: ticketCodeHash(code) } : {};
}

/** Replaces fastify's `req` serializer, which logs the raw URL (ticket codes included). */
function requestSerializer(request: LoggableRequest & Record<string, unknown>) {
  const raw = (request.raw ?? request) as { method?: string; socket?: { remotePort?: number } };
  return {
    method: raw.method,
    route: request.routeOptions?.url ?? null,
    url: loggablePath(request),
    ...secretHashes(request),
    remoteAddress: request.ip,
    remotePort: raw.socket?.remotePort,
  };
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>, service: string): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: requestSerializer as never },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'req.headers["x-internal-token"]',
        // Valid for its one request for a minute: not worth leaving in logs either.
        'req.headers["x-internal-signature"]',
      ],
      censor: '[redacted]',
    },
  };
}

/** Where log lines go: pretty text on a terminal, JSON to stdout otherwise. */
export function logDestination(
  format: 'auto' | 'pretty' | 'json' = (process.env.LOG_FORMAT as 'pretty' | 'json' | undefined) ?? 'auto',
): DestinationStream | undefined {
  const wantPretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!wantPretty) return undefined; // pino's default: JSON on stdout
  return pretty({
    colorize: true,
    // Synchronous: a line written just before a crash or an exit is not lost in a worker thread.
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,reqId,req,res,responseTime',
    messageFormat: prettyMessage,
  });
}

/** `[issuance] POST /api/ota/reservations 201 12 ms` for requests, `[issuance] message` for the rest. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const service = typeof log.service === 'string' ? `[${log.service}] ` : '';
  const req = log.req as { method?: string; url?: string } | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  if (req?.method && res?.statusCode !== undefined) {
    const ms = typeof log.responseTime === 'number' ? ` ${log.responseTime.toFixed(0)} ms` : '';
    return `${service}${req.method} ${req.url} ${res.statusCode}${ms}`;
  }
  return `${service}${String(log[messageKey] ?? '')}`;
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, service: string): Logger {
  const destination = logDestination();
  const options = loggerOptions(config, service);
  return destination ? pino(options, destination) : pino(options);
}
