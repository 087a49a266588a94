// Forwarding to the owning services over keep-alive undici pools. Bodies pass through as raw bytes
// (the payment webhook's signature covers them) and responses stream back (CSV exports are large).
// A refused, reset or silent upstream becomes 503 SERVICE_UNAVAILABLE, never a hang.

import { Readable } from 'node:stream';
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
    forward(request, reply, service, caller, opts) {
      const upstream = upstreams[service];
      const path = upstream.basePath + request.url;
      const method = httpMethod(request.method);
      const headers = upstreamRequestHeaders(
        request,
        config.INTERNAL_TOKEN,
        caller,
        opts.keepCredentials,
        path,
      );
      return new Promise<FastifyReply>((resolve, reject) => {
        const call = new ForwardedCall(request, reply, service, method, resolve, reject, metrics);
        upstream.pool.dispatch(
          { method, path, headers, body: Buffer.isBuffer(request.body) ? request.body : null },
          call,
        );
      });
    },
    async close() {
      await Promise.all(Object.values(upstreams).map((u) => u.pool.close()));
    },
  };
}

/**
 * One forwarded request, straight on undici's dispatcher rather than `pool.request`: no response
 * stream, promise or abort signal per request (and no closure per callback: the hot path of every
 * forwarded call). A small body of known length is collected and goes out in one write with the
 * headers (and a body that stops arriving is still a clean 503); anything else (CSV exports, chunked
 * answers) streams through with backpressure, never held in memory.
 */
class ForwardedCall implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private clientGone = false;
  private settled = false;
  private statusCode = 0;
  private returned: [string, string | string[]][] | undefined;
  private chunks: Buffer[] | undefined;
  private stream: Readable | undefined;
  private readonly onClientClose: () => void;
  private readonly request: FastifyRequest;
  private readonly reply: FastifyReply;
  private readonly service: UpstreamService;
  private readonly method: Dispatcher.HttpMethod;
  private readonly resolve: (reply: FastifyReply) => void;
  private readonly reject: (err: unknown) => void;
  private readonly metrics: Pick<GatewayMetrics, 'upstreamFailures'> | undefined;

  constructor(
    request: FastifyRequest,
    reply: FastifyReply,
    service: UpstreamService,
    method: Dispatcher.HttpMethod,
    resolve: (reply: FastifyReply) => void,
    reject: (err: unknown) => void,
    metrics: Pick<GatewayMetrics, 'upstreamFailures'> | undefined,
  ) {
    this.request = request;
    this.reply = reply;
    this.service = service;
    this.method = method;
    this.resolve = resolve;
    this.reject = reject;
    this.metrics = metrics;
    // The client going away cancels the upstream call rather than leaving it running.
    this.onClientClose = () => this.clientClosed();
    reply.raw.once('close', this.onClientClose);
  }

  private clientClosed(): void {
    if (this.reply.raw.writableFinished) return;
    this.clientGone = true;
    this.controller?.abort(new Error('client closed the connection'));
  }

  private done(): void {
    this.reply.raw.off('close', this.onClientClose);
  }

  private relay(): FastifyReply {
    const reply = this.reply.code(this.statusCode);
    for (const [name, value] of this.returned ?? []) reply.header(name, value);
    return reply;
  }

  private unavailable(err: unknown, phase: 'request' | 'body'): void {
    this.done();
    if (!this.clientGone) {
      this.request.log.warn(
        { err, service: this.service, code: (err as { code?: string }).code },
        phase === 'request' ? 'upstream unavailable' : 'upstream body failed',
      );
      this.metrics?.upstreamFailures.inc({ service: this.service });
    }
    this.settled = true;
    this.reject(
      new AppError('SERVICE_UNAVAILABLE', `The ${this.service} service is unavailable; retry shortly`),
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the final answer follows
    this.statusCode = statusCode;
    const listed = connectionListed(headers.connection);
    const returned: [string, string | string[]][] = [];
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || NOT_RETURNED.has(name) || listed.has(name)) continue;
      if (name.startsWith('ratelimit-')) continue; // the gateway's own limit headers win
      returned.push([name, value]);
    }
    this.returned = returned;
    const bodyless = this.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    const length = Number(headers['content-length']);
    if (bodyless || (Number.isFinite(length) && length <= BUFFERED_BODY_MAX_BYTES)) {
      this.chunks = [];
      return;
    }
    this.stream = new Readable({ read: () => controller.resume() });
    this.settled = true;
    this.resolve(this.relay().send(this.stream));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) this.chunks.push(chunk);
    else if (this.stream && !this.stream.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.done();
    if (this.stream) {
      this.stream.push(null);
      return;
    }
    this.settled = true;
    const chunks = this.chunks;
    const body =
      this.method === 'HEAD' || !chunks || chunks.length === 0
        ? undefined
        : chunks.length === 1
          ? chunks[0]
          : Buffer.concat(chunks);
    this.resolve(this.returned ? this.relay().send(body) : this.reply);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.stream) {
      this.done();
      this.stream.destroy(err);
      return;
    }
    if (this.settled) return;
    // Headers came and the body failed: always a clean 503, never a truncated answer.
    if (this.returned) {
      this.unavailable(err, 'body');
      return;
    }
    const code = (err as { code?: string }).code;
    if (this.clientGone || (code !== undefined && UNAVAILABLE_CODES.has(code))) {
      this.unavailable(err, 'request');
      return;
    }
    this.done();
    this.settled = true;
    this.reject(err);
  }
}
