// Every call the console makes to the API, in one place: @cruise/client (typed from the gateway's
// OpenAPI document) on the page's own origin with the operator token as Bearer. Refusals are the
// client's ApiError (problem+json, with its `code`); creates carry an Idempotency-Key (the client adds
// one), so a retried "create partner" never creates two.
import { ApiError, createCruiseClient, type Schemas, unwrap } from '@cruise/client';

export { ApiError };

export type Page<T> = {
  data: T[];
  page: number;
  page_size: number;
  total: number;
  has_more: boolean;
  next_cursor: string | null;
};
export type Partner = Schemas['Partner'];
export type Pool = Schemas['Pool'];
export type Channel = Pool['channel'];
export type AuditEntry = Schemas['AuditEntry'];
export type BillingSummary = Schemas['BillingSummary'];
export type Reconciliation = Schemas['ReconciliationReport'];
export type Batch = Schemas['AdminBatch'];
export type Product = Schemas['Catalogue']['products'][number];
/** A device as the console lists it (a just-created one has no `revoked_at` yet). */
export interface Device {
  device_id: string;
  venue: string;
  name: string;
  manual_entry?: boolean;
  created_at?: string;
  revoked_at?: string | null;
}

/** The operator's API, bound to a token held in memory / sessionStorage (never in a URL). */
export function createApi(token: string) {
  const client = createCruiseClient({ baseUrl: location.origin, token });
  const id = (partner_id: string) => ({ params: { path: { partner_id } } });
  return {
    listPartners: (page = 1, page_size = 100) =>
      unwrap(client.GET('/api/admin/partners', { params: { query: { page, page_size } } })),
    createPartner: (name: string, rate_limit_per_minute?: number) =>
      unwrap(
        client.POST('/api/admin/partners', {
          body: rate_limit_per_minute ? { name, rate_limit_per_minute } : { name },
        }),
      ),
    updatePartner: (
      partner_id: string,
      body: { status?: 'ACTIVE' | 'SUSPENDED'; rate_limit_per_minute?: number | null },
    ) => unwrap(client.PATCH('/api/admin/partners/{partner_id}', { ...id(partner_id), body })),
    issueKey: (partner_id: string) =>
      unwrap(client.POST('/api/admin/partners/{partner_id}/api-keys', id(partner_id))),
    revokeKey: (partner_id: string, key_id: string) =>
      unwrap(
        client.DELETE('/api/admin/partners/{partner_id}/api-keys/{key_id}', {
          params: { path: { partner_id, key_id } },
        }),
      ),
    catalogue: () => unwrap(client.GET('/api/catalogue')),
    pools: (partner_id?: string) =>
      unwrap(client.GET('/api/admin/pools', { params: { query: partner_id ? { partner_id } : {} } })),
    setAllocation: (partnerId: string | null, product_id: number, channel: Channel, allocated: number) =>
      partnerId === null
        ? unwrap(client.PUT('/api/admin/direct/allocations', { body: { product_id, allocated } }))
        : unwrap(
            client.PUT('/api/admin/partners/{partner_id}/allocations', {
              ...id(partnerId),
              body: { product_id, channel: channel === 'reseller' ? 'reseller' : 'ota', allocated },
            }),
          ),
    listDevices: (): Promise<Page<Device>> =>
      unwrap(client.GET('/api/admin/devices', { params: { query: { page: 1, page_size: 500 } } })),
    createDevice: (venue: string, name: string, manual_entry: boolean) =>
      unwrap(client.POST('/api/admin/devices', { body: { venue, name, manual_entry } })),
    setManualEntry: (device_id: string, manual_entry: boolean) =>
      unwrap(
        client.PATCH('/api/admin/devices/{device_id}', {
          params: { path: { device_id } },
          body: { manual_entry },
        }),
      ),
    revokeDevice: (device_id: string) =>
      unwrap(client.DELETE('/api/admin/devices/{device_id}', { params: { path: { device_id } } })),
    audit: (query: { partner_id?: string; from?: string; to?: string; cursor?: string; page_size: number }) =>
      unwrap(client.GET('/api/admin/audit', { params: { query } })),
    billing: (partner_id: string, from: string, to: string) =>
      unwrap(
        client.GET('/api/admin/partners/{partner_id}/billing/summary', {
          params: { path: { partner_id }, query: { from, to } },
        }),
      ),
    reconciliation: (partner_id: string, from: string, to: string) =>
      unwrap(
        client.GET('/api/admin/partners/{partner_id}/reports/reconciliation', {
          params: { path: { partner_id }, query: { from, to } },
        }),
      ),
    batches: (query: {
      status?: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'IN_PROGRESS';
      partner_id?: string;
      page: number;
      page_size: number;
    }) => unwrap(client.GET('/api/admin/batches', { params: { query } })),
  };
}
export type Api = ReturnType<typeof createApi>;
