// One error type with a machine-readable code; every service renders it as RFC 9457 problem+json.

/** The contract's error codes and the HTTP status each one always has. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  PARTNER_SUSPENDED: 403,
  MANUAL_ENTRY_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INSUFFICIENT_INVENTORY: 409,
  RESERVATION_NOT_ON_HOLD: 409,
  RESERVATION_EXPIRED: 409,
  TICKET_NOT_ACTIVE: 409,
  TICKET_NOT_CANCELLABLE: 409,
  ALREADY_REDEEMED: 409,
  QR_SUPERSEDED: 409,
  ALLOCATION_CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  REQUEST_TIMEOUT: 408,
  QR_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  AMOUNT_MISMATCH: 422,
  INVALID_QR: 422,
  ENTITLEMENT_NOT_FOUND: 422,
  UNKNOWN_PRODUCT: 422,
  UNKNOWN_CUSTOMER_TYPE: 422,
  RATE_LIMITED: 429,
  REQUEST_HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'Request validation failed',
  INTERNAL_ERROR: 'Internal server error',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused with a different request',
};

export function titleOf(code: ErrorCode): string {
  return (
    TITLES[code] ??
    code
      .toLowerCase()
      .split('_')
      .map((w, i) => (i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w))
      .join(' ')
  );
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  request_id?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://docs.cruise-tickets.dev/errors/';

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra members of the problem document (e.g. `errors`, `ticket_status`, `remaining`). */
  readonly extensions: Record<string, unknown>;
  constructor(code: ErrorCode, detail?: string, extensions: Record<string, unknown> = {}) {
    super(detail ?? titleOf(code));
    this.code = code;
    this.extensions = extensions;
    this.status = ERROR_STATUS[code];
  }

  toProblem(requestId?: string): Problem {
    return toProblem(this.code, this.message, requestId, this.extensions);
  }
}

export function toProblem(
  code: ErrorCode,
  detail?: string,
  requestId?: string,
  extensions: Record<string, unknown> = {},
): Problem {
  return {
    type: PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-'),
    title: titleOf(code),
    status: ERROR_STATUS[code],
    code,
    ...(detail ? { detail } : {}),
    ...(requestId ? { request_id: requestId } : {}),
    ...extensions,
  };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in ERROR_STATUS;
}

/** An expected refusal as a value: domain functions return these instead of throwing. */
export type Refusal<C extends ErrorCode = ErrorCode> = {
  ok: false;
  code: C;
  detail: string;
  extensions?: Record<string, unknown>;
};
export type Outcome<T, C extends ErrorCode = ErrorCode> = ({ ok: true } & T) | Refusal<C>;

export function refuse<C extends ErrorCode>(
  code: C,
  detail: string,
  extensions?: Record<string, unknown>,
): Refusal<C> {
  return extensions ? { ok: false, code, detail, extensions } : { ok: false, code, detail };
}

/** Turns a refusal into the AppError a route throws. */
export function refusalError(r: Refusal): AppError {
  return new AppError(r.code, r.detail, r.extensions);
}
