// The HTTP side of a delivery: one POST to the receiver, with the URL checks of api.md applied on the
// way. New connections go only to addresses that passed the check (a custom DNS lookup), IP literals
// are checked directly; redirects are not followed (a plain dispatch never follows them); the
// answer's body is read up to a small cap and dropped.
//
// The request goes through undici's Dispatcher.dispatch with a handler that keeps the status and counts
// the body's bytes: request() would build a Readable stream, parse every response header and listen on
// an AbortSignal for each request, none of which a delivery needs (the bench's burst sends ~100,000).
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, type Dispatcher } from 'undici';
import { checkUrlShape, isPublicAddress, type UrlVerdict } from '../domain/url-safety.ts';

/** Bytes of a receiver's answer read at most (the status is what counts; the body is not kept). */
export const RESPONSE_BODY_CAP = 4_096;
/** Keep-alive connections per receiver origin at most (requests beyond wait for one; slots bound them anyway). */
export const CONNECTIONS_PER_ORIGIN = 8;

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface ReceiverClient {
  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult>;
  close(): Promise<void>;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A DNS lookup that fails the connection when any resolved address is not public. */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      const e = new Error(
        `${hostname} resolves to a non-public address (${bad?.address ?? 'none'})`,
      ) as NodeJS.ErrnoException;
      e.code = 'EBLOCKEDADDRESS';
      return callback(e, []);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

export function createReceiverClient(opts: { timeoutMs: number; allowPrivate: boolean }): ReceiverClient {
  const agent = new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: 10_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connect: {
      timeout: Math.min(opts.timeoutMs, 5_000),
      ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup as never }),
    },
  });
  // The shape checks are a pure function of the URL: made once per URL, not once per request.
  const verdicts = new Map<string, UrlVerdict>();
  const verdictOf = (url: string): UrlVerdict => {
    let v = verdicts.get(url);
    if (!v) {
      v = checkUrlShape(url, opts.allowPrivate);
      if (v.ok && !opts.allowPrivate) {
        const host = v.url.hostname.replace(/^\[|\]$/g, '');
        if (ipaddr.isValid(host) && !isPublicAddress(host)) {
          v = { ok: false, reason: `${host} is not a public address` };
        }
      }
      if (verdicts.size >= 1_000) verdicts.clear();
      verdicts.set(url, v);
    }
    return v;
  };
  return {
    async post(url, headers, body) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const verdict = verdictOf(url);
      if (!verdict.ok)
        return { statusCode: null, error: `blocked: ${verdict.reason}`, durationMs: elapsed() };
      try {
        const statusCode = await send(agent, verdict.url, headers, body, opts.timeoutMs);
        return { statusCode, error: null, durationMs: elapsed() };
      } catch (err) {
        const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
        const code = e.cause?.code ?? e.code ?? e.name ?? 'ERROR';
        const reason =
          e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
            ? `timeout after ${opts.timeoutMs} ms`
            : code === 'EBLOCKEDADDRESS'
              ? `blocked: ${e.message ?? 'non-public address'}`
              : `${code}: ${(e.message ?? '').slice(0, 200)}`;
        return { statusCode: null, error: reason, durationMs: elapsed() };
      }
    },
    async close() {
      await agent.close();
    },
  };
}

/**
 * One POST through the agent: resolves with the final status once the answer has ended or RESPONSE_BODY_CAP
 * bytes of it were read (then the connection is closed); rejects on a connection or protocol error, or
 * after `timeoutMs` in all (a TimeoutError, whatever the request was waiting for).
 */
function send(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let settled = false;
    let statusCode = 0;
    let read = 0;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(statusCode);
    };
    // The error only when it happens: an Error per request would capture a stack trace per request.
    let timeout: Error | null = null;
    const timer = setTimeout(() => {
      timeout = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' });
      finish(timeout);
      controller?.abort(timeout);
    }, timeoutMs);
    agent.dispatch(
      { origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body },
      {
        onRequestStart(c) {
          controller = c;
          // Timed out while waiting for a connection: never sent.
          if (timeout) c.abort(timeout);
        },
        onResponseStart(_c, code) {
          if (code >= 200) statusCode = code;
        },
        onResponseData(c, chunk) {
          read += chunk.length;
          if (read > RESPONSE_BODY_CAP) {
            // Enough of it: the status stands, the rest is cut off with the connection.
            finish(null);
            c.abort(new Error('response body over the cap'));
          }
        },
        onResponseEnd() {
          finish(null);
        },
        onResponseError(_c, err) {
          finish(err);
        },
      },
    );
  });
}
