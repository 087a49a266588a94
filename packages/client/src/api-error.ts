// A refused request as a typed error: the contract answers every error as RFC 9457 problem+json with a
// stable machine `code`; anything else (a proxy's HTML 502, an empty body) still becomes an ApiError.
import type { components } from './generated/openapi.ts';

export type Problem = components['schemas']['Problem'];
export type ProblemCode = Problem['code'];

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  /** The contract's machine code (`INSUFFICIENT_INVENTORY` …), or `HTTP_<status>` for a non-problem answer. */
  readonly code: ProblemCode | `HTTP_${number}`;
  readonly title: string;
  readonly detail: string | undefined;
  readonly request_id: string | undefined;
  /** Field-level messages of a VALIDATION_FAILED. */
  readonly errors: { path: string; message: string }[];
  /** Seconds from `Retry-After` (429, 503), when the server sent one. */
  readonly retryAfter: number | undefined;
  /** The whole problem body: some carry more (`redeemed_at`, `ticket_status`, `remaining`). */
  readonly problem: Record<string, unknown> | undefined;

  constructor(status: number, body: unknown, headers?: Headers) {
    const problem = isProblem(body) ? body : undefined;
    const code = problem?.code ?? (`HTTP_${status}` as const);
    const title = problem?.title ?? `HTTP ${status}`;
    const detail = problem?.detail ?? (typeof body === 'string' && body ? body.slice(0, 200) : undefined);
    super(`${code}: ${detail ?? title}`);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.request_id = problem?.request_id ?? headers?.get('x-request-id') ?? undefined;
    this.errors = problem?.errors ?? [];
    this.retryAfter = retryAfterSeconds(headers);
    this.problem = problem;
    if (this.errors.length > 0) this.message += ` [${this.fieldErrors()}]`;
  }

  private fieldErrors(): string {
    return this.errors.map((e) => `${e.path || '(body)'} ${e.message}`).join('; ');
  }

  /** One readable line: code, status, detail, field errors and the request id to quote to support. */
  describe(): string {
    const fields = this.fieldErrors();
    return [
      `${this.code} (${this.status})`,
      this.detail ?? this.title,
      fields ? `[${fields}]` : '',
      this.request_id ? `request ${this.request_id}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
  }
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string' &&
    typeof (body as { status?: unknown }).status === 'number'
  );
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date). */
export function retryAfterSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
