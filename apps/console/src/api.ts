// Every call the console makes to the API, in one place (the gateway, same origin, operator token as
// Bearer). Errors are the contract's problem+json documents, surfaced as ApiError with their `code`.

export interface Problem {
  code: string;
  title?: string;
  detail?: string;
  status: number;
  errors?: { path: string; message: string }[];
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

export interface Page<T> {
  data: T[];
  page: number;
  page_size: number;
  total: number;
  has_more: boolean;
}

export interface Partner {
  partner_id: string;
  name: string;
  status: 'ACTIVE' | 'SUSPENDED';
  rate_limit_per_minute: number;
  created_at: string;
  updated_at: string;
  api_keys: { key_id: string; prefix: string; created_at: string; revoked_at: string | null }[];
}
export interface CreatedPartner {
  partner_id: string;
  name: string;
  api_key: string;
  rate_limit_per_minute: number;
  status: string;
}
export interface CreatedKey {
  key_id: string;
  api_key: string;
  prefix: string;
  created_at: string;
}
export type Channel = 'direct' | 'ota' | 'reseller';
export interface Pool {
  partner_id: string | null;
  product_id: number;
  channel: Channel;
  allocated: number;
  held: number;
  sold: number;
  available: number;
}
export interface Device {
  device_id: string;
  venue: string;
  name: string;
  manual_entry?: boolean;
  created_at?: string;
  revoked_at?: string | null;
}
export interface CreatedDevice extends Device {
  device_key: string;
}
export interface AuditEntry {
  id: number;
  at: string;
  request_id: string;
  actor_kind: string;
  partner_id: string | null;
  method: string;
  route: string | null;
  path: string;
  status: number;
  duration_ms: number;
  client_ip: string | null;
}
export interface Money {
  amount: number;
  currency: string;
}
interface Counts {
  issued: number;
  activated: number;
  used: number;
  cancelled: number;
  gross: Money;
}
export interface BillingSummary {
  from: string;
  to: string;
  currency: string;
  totals: Counts;
  by_reseller: ({ reseller_id: string; name: string } & Counts)[];
  by_product: ({ product_id: number } & Counts)[];
}
export interface ReconciliationRow {
  product_id: number;
  channel: 'ota' | 'reseller';
  allocated: number;
  held: number;
  sold: number;
  available: number;
  activated: number;
  used: number;
  expired: number;
  cancelled: number;
  tickets_pre_generated: number;
  tickets_sold: number;
}
export interface Reconciliation {
  from: string;
  to: string;
  as_of: string;
  rows: ReconciliationRow[];
}
export interface Batch {
  batch_id: string;
  partner_id: string;
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  product_id: number;
  quantity: number;
  generated: number;
  reseller: { reseller_id: string; name: string } | null;
  batch_reference: string | null;
  created_at: string;
  completed_at: string | null;
  error: string | null;
}
export interface Product {
  product_id: number;
  name: string;
  functions: { function_code: string; name: string }[];
}

type Query = Record<string, string | number | undefined | null>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

/** The operator's API, bound to a token held in memory / sessionStorage (never in a URL). */
export function createApi(token: string) {
  async function call<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      cache: 'no-store',
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
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
          : {
              code: response.status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR',
              status: response.status,
              detail: text.slice(0, 200),
            };
      throw new ApiError(response.status, { ...problem, status: response.status });
    }
    return json as T;
  }
  return {
    listPartners: (page = 1, page_size = 100) =>
      call<Page<Partner>>('GET', '/api/admin/partners', { query: { page, page_size } }),
    createPartner: (name: string, rate_limit_per_minute?: number) =>
      call<CreatedPartner>('POST', '/api/admin/partners', {
        body: rate_limit_per_minute ? { name, rate_limit_per_minute } : { name },
      }),
    updatePartner: (id: string, patch: { status?: string; rate_limit_per_minute?: number | null }) =>
      call<Partner>('PATCH', `/api/admin/partners/${id}`, { body: patch }),
    issueKey: (id: string) => call<CreatedKey>('POST', `/api/admin/partners/${id}/api-keys`),
    revokeKey: (id: string, keyId: string) =>
      call<void>('DELETE', `/api/admin/partners/${id}/api-keys/${keyId}`),
    catalogue: () => call<{ products: Product[] }>('GET', '/api/catalogue'),
    pools: (partner_id?: string) =>
      call<{ data: Pool[] }>('GET', '/api/admin/pools', { query: { partner_id } }),
    setAllocation: (partnerId: string | null, product_id: number, channel: Channel, allocated: number) =>
      partnerId === null
        ? call<Pool>('PUT', '/api/admin/direct/allocations', { body: { product_id, allocated } })
        : call<Pool>('PUT', `/api/admin/partners/${partnerId}/allocations`, {
            body: { product_id, channel, allocated },
          }),
    listDevices: () =>
      call<Page<Device> | Device[]>('GET', '/api/admin/devices', { query: { page_size: 500 } }),
    createDevice: (venue: string, name: string, manual_entry: boolean) =>
      call<CreatedDevice>('POST', '/api/admin/devices', { body: { venue, name, manual_entry } }),
    setManualEntry: (id: string, manual_entry: boolean) =>
      call<Device>('PATCH', `/api/admin/devices/${id}`, { body: { manual_entry } }),
    revokeDevice: (id: string) => call<void>('DELETE', `/api/admin/devices/${id}`),
    audit: (q: { partner_id?: string; from?: string; to?: string; page: number; page_size: number }) =>
      call<Page<AuditEntry>>('GET', '/api/admin/audit', { query: q }),
    billing: (partnerId: string, from: string, to: string) =>
      call<BillingSummary>('GET', `/api/admin/partners/${partnerId}/billing/summary`, {
        query: { from, to },
      }),
    reconciliation: (partnerId: string, from: string, to: string) =>
      call<Reconciliation>('GET', `/api/admin/partners/${partnerId}/reports/reconciliation`, {
        query: { from, to },
      }),
    batches: (q: { status?: string; partner_id?: string; page: number; page_size: number }) =>
      call<Page<Batch>>('GET', '/api/admin/batches', { query: q }),
  };
}
export type Api = ReturnType<typeof createApi>;
