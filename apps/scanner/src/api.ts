// Every call the scanner makes to the API, in one place (the gateway, same origin). Errors are the
// contract's problem+json documents, surfaced as ApiError; a request that never got an answer (offline,
// connection dropped) is a NetworkError, which is what puts a scan in the offline queue.

export interface Problem {
  code: string;
  title?: string;
  detail?: string;
  status: number;
  ticket_status?: string;
  remaining?: string[];
  redeemed_at?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.status = status;
    this.problem = problem;
  }
  get code(): string {
    return this.problem.code;
  }
}

/** No HTTP answer at all: the scan may or may not have reached the server, so it is retried with its nonce. */
export class NetworkError extends Error {}

export interface Device {
  device_id: string;
  venue: string;
  name: string;
  /** Absent where the server has no manual-entry switch: then manual entry is offered and the server decides. */
  manual_entry?: boolean;
}

export interface Catalogue {
  products: { product_id: number; name: string; functions: { function_code: string; name: string }[] }[];
}

export interface ScanRequest {
  qr_token?: string;
  ticket_code?: string;
  function_code: string;
  session_code?: string;
  nonce: string;
}

export interface Accepted {
  result: 'ACCEPTED';
  ticket_code: string;
  function_code: string;
  ticket_status: 'ACTIVE' | 'USED';
  remaining: string[];
  redeemed_at: string;
}

async function call<T>(method: string, path: string, deviceKey: string | null, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (deviceKey) headers.authorization = `Bearer ${deviceKey}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new NetworkError(err instanceof Error ? err.message : 'network error');
  }
  const text = await response.text().catch(() => '');
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const problem =
      json && typeof json === 'object' && 'code' in json
        ? (json as Problem)
        : { code: response.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'HTTP_ERROR', status: response.status };
    throw new ApiError(response.status, { ...problem, status: response.status });
  }
  return json as T;
}

export const api = {
  device: (deviceKey: string) => call<Device>('GET', '/venue/device', deviceKey),
  catalogue: () => call<Catalogue>('GET', '/api/catalogue', null),
  redeem: (deviceKey: string, scan: ScanRequest) => call<Accepted>('POST', '/venue/redeem', deviceKey, scan),
};
