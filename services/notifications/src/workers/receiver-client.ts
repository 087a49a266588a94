// The HTTP side of a delivery: one POST to the receiver, with the URL checks of api.md applied on the
// way. New connections go only to addresses that passed the check (a custom DNS lookup), IP literals
// are checked directly; redirects are not followed (undici's request() never follows them); the
// answer's body is read up to a small cap and dropped.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { checkUrlShape, isPublicAddress } from '../domain/url-safety.ts';

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
  return {
    async post(url, headers, body) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const shape = checkUrlShape(url, opts.allowPrivate);
      if (!shape.ok) return { statusCode: null, error: `blocked: ${shape.reason}`, durationMs: elapsed() };
      const host = shape.url.hostname.replace(/^\[|\]$/g, '');
      if (!opts.allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) {
        return { statusCode: null, error: `blocked: ${host} is not a public address`, durationMs: elapsed() };
      }
      try {
        const res = await request(shape.url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        // Reads at most the cap and drops it; a longer body is cut off (the connection is closed).
        await res.body.dump({ limit: RESPONSE_BODY_CAP });
        return { statusCode: res.statusCode, error: null, durationMs: elapsed() };
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
