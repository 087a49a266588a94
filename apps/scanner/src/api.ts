// Every call the scanner makes to the API, in one place: @cruise/client (typed from the gateway's
// OpenAPI document) on the page's own origin. A refusal is the client's ApiError (problem+json with its
// `code`); a request that never got an answer (offline, connection dropped) is a NetworkError, which is
// what keeps a scan in the offline queue.
import { ApiError, createCruiseClient, type Schemas, unwrap } from '@cruise/client';

export { ApiError };

/** What the answer screen needs of a refusal: the contract's code and, for redemptions, the ticket's state. */
export interface Problem {
  code: string;
  status: number;
  detail?: string | undefined;
  ticket_status?: string;
  remaining?: string[];
  redeemed_at?: string;
}

export function problemOf(err: ApiError): Problem {
  return { ...(err.problem ?? {}), code: err.code, status: err.status, detail: err.detail };
}

/** No HTTP answer at all: the scan may or may not have reached the server, so it is retried with its nonce. */
export class NetworkError extends Error {}

export type Device = Schemas['CurrentDevice'];
export type Catalogue = Schemas['Catalogue'];
export type Accepted = Schemas['RedeemAccepted'];
export type ScanRequest = Schemas['RedeemRequest'] & { nonce: string };

function client(deviceKey?: string) {
  return createCruiseClient({
    baseUrl: location.origin,
    token: deviceKey,
    // No HTTP cache between a scan and its answer.
    fetch: (request) => fetch(request, { cache: 'no-store' }),
  });
}

/** The client's answer, or NetworkError when there was none. */
async function answered<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new NetworkError(err instanceof Error ? err.message : 'network error');
  }
}

export const api = {
  device: (deviceKey: string) => answered(() => unwrap(client(deviceKey).GET('/venue/device'))),
  catalogue: () => answered(() => unwrap(client().GET('/api/catalogue'))),
  redeem: (deviceKey: string, scan: ScanRequest) =>
    answered(() => unwrap(client(deviceKey).POST('/venue/redeem', { body: scan }))),
};
