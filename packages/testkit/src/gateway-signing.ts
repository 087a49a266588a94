// In-process service tests call a service app the way the gateway would: a request carrying caller
// headers (`x-caller-kind`, `x-partner-id`) and no signature of its own is signed with the deployment's
// INTERNAL_TOKEN before it is injected. A test that sends its own `x-internal-signature` (a forged or
// replayed one) is passed through untouched, so the refusals stay testable.
import { randomUUID } from 'node:crypto';
import { INTERNAL_HEADER, type SignedCaller, signInternalRequest } from '@cruise/shared';

type InjectFn = (opts?: unknown, callback?: unknown) => unknown;

function lowerCased(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function injectedUrl(opts: { url?: unknown; path?: unknown; query?: unknown }): string {
  const base = String(opts.url ?? opts.path ?? '/');
  if (opts.query === undefined) return base;
  const query =
    typeof opts.query === 'string'
      ? opts.query
      : new URLSearchParams(opts.query as Record<string, string>).toString();
  return query ? `${base}${base.includes('?') ? '&' : '?'}${query}` : base;
}

/** Makes `app.inject` sign caller headers as the gateway does; returns the same app. */
export function injectAsGateway<T extends { inject: unknown }>(app: T, secret: string): T {
  const inject = (app.inject as InjectFn).bind(app);
  (app as { inject: InjectFn }).inject = (opts, callback) => {
    if (typeof opts !== 'object' || opts === null) return inject(opts, callback);
    const o = opts as { method?: string; headers?: Record<string, unknown>; url?: unknown; query?: unknown };
    const headers = lowerCased(o.headers);
    const kind = headers[INTERNAL_HEADER.callerKind];
    if (kind === undefined || headers[INTERNAL_HEADER.signature] !== undefined) return inject(opts, callback);
    const caller: SignedCaller =
      kind === 'partner'
        ? { kind: 'partner', partnerId: String(headers[INTERNAL_HEADER.partnerId]) }
        : kind === 'device'
          ? { kind: 'device', deviceId: String(headers[INTERNAL_HEADER.deviceId]) }
          : kind === 'admin'
            ? { kind: 'admin' }
            : { kind: 'none' };
    const requestId = String(headers[INTERNAL_HEADER.requestId] ?? randomUUID());
    const signed = signInternalRequest(secret, {
      method: o.method ?? 'GET',
      url: injectedUrl(o),
      requestId,
      caller,
    });
    return inject({ ...o, headers: { ...headers, ...signed } }, callback);
  };
  return app;
}
