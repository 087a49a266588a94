// The typed client: openapi-fetch over the types generated from the gateway's OpenAPI document, with
// the caller's bearer token, an Idempotency-Key on every create, and `unwrap` to turn a refusal into
// an ApiError. Works wherever `fetch` does (Node 24, browsers).
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { ApiError, retryAfterSeconds } from './api-error.ts';
import { idempotentOperations, type paths } from './generated/openapi.ts';

export type CruiseClient = Client<paths>;

export interface CruiseClientOptions {
  /** The gateway, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** Partner API key, operator token or device key: each goes as `Authorization: Bearer`. */
  token?: string | undefined;
  /** Extra headers on every request (e.g. `user-agent`). */
  headers?: Record<string, string>;
  fetch?: (request: Request) => Promise<Response>;
  /**
   * A create carries an Idempotency-Key, so repeating it is safe: after a network failure or a 503
   * (a dependency down) it is sent again with the same key, this many times at most. Default 2.
   */
  createRetries?: number;
}

const IDEMPOTENT = new Set<string>(idempotentOperations);

/** A fresh Idempotency-Key (a random UUID). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/** Gives every create that lacks one an Idempotency-Key, so the retry below cannot create twice. */
const idempotencyKeys: Middleware = {
  onRequest({ request, schemaPath }) {
    if (IDEMPOTENT.has(`${request.method} ${schemaPath}`) && !request.headers.has('idempotency-key')) {
      request.headers.set('idempotency-key', newIdempotencyKey());
    }
    return request;
  },
};

export function createCruiseClient(opts: CruiseClientOptions): CruiseClient {
  const send = opts.fetch ?? ((request: Request) => globalThis.fetch(request));
  const retries = opts.createRetries ?? 2;
  const client = createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    fetch: (request) =>
      request.headers.has('idempotency-key') ? sendWithRetries(send, request, retries) : send(request),
  });
  client.use(idempotencyKeys);
  return client;
}

async function sendWithRetries(
  send: (request: Request) => Promise<Response>,
  request: Request,
  retries: number,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= retries;
    let response: Response;
    try {
      response = await send(last ? request : request.clone());
    } catch (err) {
      if (last || request.signal.aborted) throw err;
      await sleep(backoffMs(attempt), request.signal);
      continue;
    }
    if (response.status !== 503 || last) return response;
    await response.body?.cancel();
    const told = retryAfterSeconds(response.headers);
    await sleep(told === undefined ? backoffMs(attempt) : told * 1000, request.signal);
  }
}

function backoffMs(attempt: number): number {
  return 250 * 2 ** attempt;
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type Answer = { data?: unknown; error?: unknown; response: Response };

/**
 * The data of a successful call, or an ApiError for a refusal:
 * `const inv = await unwrap(api.GET('/api/ota/inventory', {}))`.
 */
export async function unwrap<R extends Answer>(call: Promise<R> | R): Promise<Exclude<R['data'], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error, response.headers);
  return data as Exclude<R['data'], undefined>;
}
