// Forwarding to the owning services over keep-alive undici pools. Bodies pass through as raw bytes
// (the payment webhook's signature covers them) and responses stream back (CSV exports are large).
// A refused, reset or silent upstream becomes 503 SERVICE_UNAVAILABLE, never a hang.
import { AppError, type Config, HEADER, type OwningService, signInternalRequest } from '@cruise/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Dispatcher, Pool } from 'undici';
import type { GatewayMetrics } from '../metrics.ts';

export type UpstreamService = Exclude<OwningService, 'gateway'>;

/** The identity the upstream learns from the trusted internal headers. */
export type ForwardedCaller = { kind: 'partner'; partnerId: string } | { kind: 'admin' } | { kind: 'none' };

export interface Upstreams {
  forward(
    request: FastifyRequest,
    reply: FastifyReply,
    service: UpstreamService,
    caller: ForwardedCaller,
    opts: { keepCredentials: boolean },
  ): Promise<FastifyReply>;
  close(): Promise<void>;
}

// RFC 9110 §7.6.1 hop-by-hop headers, plus those the proxy sets itself.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  HEADER.requestId,
]);
// Identity headers only the gateway may set: a client sending them is ignored, not trusted.
const INTERNAL_PREFIXES = ['x-internal-', 'x-caller-', 'x-partner-', 'x-device-'];
const CREDENTIALS = new Set(['authorization', 'x-api-key']);
const NOT_RETURNED = new Set([...NOT_FORWARDED, 'date', 'server']);

const NONE_LISTED: ReadonlySet<string> = new Set();

function connectionListed(value: string | string[] | undefined): ReadonlySet<string> {
  // Most requests and responses name nothing beyond keep-alive: no set to build for them.
  if (value === undefined || value === 'keep-alive' || value === 'close') return NONE_LISTED;
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    joined
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}

export function upstreamRequestHeaders(
  request: FastifyRequest,
  internalToken: string,
  caller: ForwardedCaller,
  keepCredentials: boolean,
  upstreamPath: string = request.url,
): Record<string, string | string[]> {
  const listed = connectionListed(request.headers.connection);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name) || listed.has(name)) continue;
    if (INTERNAL_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (!keepCredentials && CREDENTIALS.has(name)) continue;
    headers[name] = value;
  }
  // Standard X-Forwarded-For: the address this request came from is appended (the client, or the
  // trusted proxy in front of us); redemption resolves the client from it with the same TRUSTED_PROXIES.
  const priorFor = request.headers['x-forwarded-for'];
  const peer = request.raw.socket?.remoteAddress ?? request.ip;
  headers['x-forwarded-for'] = priorFor ? `${priorFor}, ${peer}` : peer;
  headers['x-forwarded-proto'] = request.protocol;
  // The caller headers, the request id, a timestamp and a signature over them and this method and path
  // (internal-auth.ts): the upstream trusts the identity only with that proof.
  Object.assign(
    headers,
    signInternalRequest(internalToken, {
      method: request.method,
      url: upstreamPath,
      requestId: request.id,
      caller,
    }),
  );
  return headers;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** Upstream bodies up to this size are read whole before relaying; larger ones stream. */
const BUFFERED_BODY_MAX_BYTES = 256 * 1024;

interface Upstream {
  pool: Pool;
  basePath: string;
}

const METHODS = new Set<string>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function isHttpMethod(method: string): method is Dispatcher.HttpMethod {
  return METHODS.has(method);
}

/** The request's method as undici names it (routes only ever match these). */
function httpMethod(method: string): Dispatcher.HttpMethod {
  if (!isHttpMethod(method)) throw new AppError('METHOD_NOT_ALLOWED');
  return method;
}

export function createUpstreams(
  config: Pick<
    Config,
    | 'INVENTORY_URL'
    | 'ISSUANCE_URL'
    | 'REDEMPTION_URL'
    | 'NOTIFICATIONS_URL'
    | 'OCTO_URL'
    | 'UPSTREAM_TIMEOUT_MS'
    | 'INTERNAL_TOKEN'
  >,
  metrics?: Pick<GatewayMetrics, 'upstreamFailures'>,
): Upstreams {
  const timeout = config.UPSTREAM_TIMEOUT_MS;
  const make = (base: string): Upstream => {
    const url = new URL(base);
    return {
      pool: new Pool(url.origin, {
        connections: 128,
        // Below the services' own keep-alive (65 s) so we never reuse a socket they are closing.
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 60_000,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        connect: { timeout: Math.min(timeout, 5_000) },
      }),
      basePath: url.pathname.replace(/\/+$/, ''),
    };
  };
  const upstreams: Record<UpstreamService, Upstream> = {
    inventory: make(config.INVENTORY_URL),
    issuance: make(config.ISSUANCE_URL),
    redemption: make(config.REDEMPTION_URL),
    notifications: make(config.NOTIFICATIONS_URL),
    octo: make(config.OCTO_URL),
  };

  return {
    async forward(request, reply, service, caller, opts) {
      const upstream = upstreams[service];
      // The client going away cancels the upstream call rather than leaving it running.
      const abort = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) abort.abort();
      };
      reply.raw.once('close', onClose);
      let response: Awaited<ReturnType<Pool['request']>>;
      try {
        const path = upstream.basePath + request.url;
        response = await upstream.pool.request({
          method: httpMethod(request.method),
          path,
          headers: upstreamRequestHeaders(request, config.INTERNAL_TOKEN, caller, opts.keepCredentials, path),
          body: Buffer.isBuffer(request.body) ? request.body : null,
          signal: abort.signal,
        });
      } catch (err) {
        reply.raw.off('close', onClose);
        const code = (err as { code?: string }).code;
        if (abort.signal.aborted || (code !== undefined && UNAVAILABLE_CODES.has(code))) {
          if (!abort.signal.aborted) {
            request.log.warn({ err, service, code }, 'upstream unavailable');
            metrics?.upstreamFailures.inc({ service });
          }
          throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service is unavailable; retry shortly`);
        }
        throw err;
      }
      const returned: [string, string | string[]][] = [];
      const listed = connectionListed(response.headers.connection);
      for (const [name, value] of Object.entries(response.headers)) {
        if (value === undefined || NOT_RETURNED.has(name) || listed.has(name)) continue;
        if (name.startsWith('ratelimit-')) continue; // the gateway's own limit headers win
        returned.push([name, value]);
      }
      const relay = () => {
        reply.code(response.statusCode);
        for (const [name, value] of returned) reply.header(name, value);
        return reply;
      };
      const bodyless =
        request.method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304;
      // A small body of known length is read first and goes out in one write with the headers (and
      // a body that stops arriving is still a clean 503); anything else (CSV exports, chunked
      // answers) streams through without being held in memory.
      const length = Number(response.headers['content-length']);
      if (bodyless || (Number.isFinite(length) && length <= BUFFERED_BODY_MAX_BYTES)) {
        let body: Buffer | undefined;
        try {
          if (bodyless) await response.body.dump();
          else body = Buffer.from(await response.body.arrayBuffer());
        } catch (err) {
          if (!abort.signal.aborted) {
            request.log.warn({ err, service }, 'upstream body failed');
            metrics?.upstreamFailures.inc({ service });
          }
          throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service is unavailable; retry shortly`);
        } finally {
          reply.raw.off('close', onClose);
        }
        return relay().send(body);
      }
      response.body.once('end', () => reply.raw.off('close', onClose));
      return relay().send(response.body);
    },
    async close() {
      await Promise.all(Object.values(upstreams).map((u) => u.pool.close()));
    },
  };
}
