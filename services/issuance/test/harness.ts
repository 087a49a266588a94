// Test harness: the real inventory app (its NATS responders answer issuance's commands) next to the
// issuance app, both on the test context's PostgreSQL/Redis/NATS, plus the headers the gateway adds.
import { randomUUID } from 'node:crypto';
import { buildApp as buildInventory, seedCatalogue, setAllocation } from '@cruise/inventory';
import {
  type App,
  type Config,
  closeServiceDeps,
  createCommandClient,
  createServiceDeps,
  type ServiceDeps,
  signPayment,
  venueDate,
} from '@cruise/shared';
import { injectAsGateway } from '@cruise/testkit';
import { buildApp, type IssuanceAppOptions } from '../src/app.ts';

export interface System {
  config: Config;
  inventory: App;
  issuance: App;
  inventoryDeps: ServiceDeps;
  deps: ServiceDeps;
  close(): Promise<void>;
}

export async function startSystem(config: Config, opts: IssuanceAppOptions = {}): Promise<System> {
  const inventoryDeps = await createServiceDeps(config, 'inventory');
  await seedCatalogue(inventoryDeps.pool);
  const inventory = injectAsGateway(
    await buildInventory(config, inventoryDeps, { logger: false }),
    config.INTERNAL_TOKEN,
  );
  await inventory.ready();
  const deps = await createServiceDeps(config, 'issuance');
  const issuance = injectAsGateway(
    await buildApp(config, deps, { logger: false, ...opts }),
    config.INTERNAL_TOKEN,
  );
  await issuance.ready();
  return {
    config,
    inventory,
    issuance,
    inventoryDeps,
    deps,
    async close() {
      await issuance.close();
      await inventory.close();
      await closeServiceDeps(deps);
      await closeServiceDeps(inventoryDeps);
    },
  };
}

/** The caller headers the gateway adds; the harness's app signs them as the gateway does (injectAsGateway). */
export function partnerHeaders(_config: Config, partnerId: string): Record<string, string> {
  return { 'x-caller-kind': 'partner', 'x-partner-id': partnerId };
}

export function adminHeaders(_config: Config): Record<string, string> {
  return { 'x-caller-kind': 'admin' };
}

export async function allocate(
  sys: System,
  a: {
    productId: number;
    channel: 'direct' | 'ota' | 'reseller';
    partnerId: string | null;
    allocated: number;
  },
) {
  const r = await setAllocation(sys.inventoryDeps.pool, a);
  if (!r.ok) throw new Error(`allocation refused: ${r.detail}`);
}

/** A new partner with the given allocations. */
export async function newPartner(
  sys: System,
  allocations: { productId: number; channel: 'ota' | 'reseller'; allocated: number }[],
): Promise<string> {
  const partnerId = randomUUID();
  for (const a of allocations) await allocate(sys, { ...a, partnerId });
  return partnerId;
}

/** A reseller of `partnerId`, created through the API (201 checked): its id. */
export async function newReseller(
  sys: System,
  config: Config,
  partnerId: string,
  body: Record<string, unknown> = { name: `R ${randomUUID().slice(0, 8)}` },
): Promise<string> {
  const res = await sys.issuance.inject({
    method: 'POST',
    url: '/api/ota/resellers',
    headers: partnerHeaders(config, partnerId),
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`reseller not created: ${res.statusCode} ${res.body}`);
  return res.json().reseller_id;
}

/** A batch requested through the API (202 checked): its id. Generating it is up to the test. */
export async function bulkGenerate(
  sys: System,
  headers: Record<string, string>,
  payload: { product_id: number; quantity: number; reseller_id: string },
): Promise<string> {
  const res = await sys.issuance.inject({
    method: 'POST',
    url: '/api/ota/tickets/bulk-generate',
    headers,
    payload,
  });
  if (res.statusCode !== 202) throw new Error(`batch not accepted: ${res.statusCode} ${res.body}`);
  return res.json().batch_id;
}

/** The next date (from tomorrow on, venue calendar) whose day is weekend or weekday. */
export function nextDate(config: Config, kind: 'weekday' | 'weekend'): string {
  const d = new Date(`${venueDate(new Date(), config.VENUE_TIMEZONE)}T00:00:00Z`);
  for (;;) {
    d.setUTCDate(d.getUTCDate() + 1);
    const day = d.getUTCDay();
    if ((day === 0 || day === 6) === (kind === 'weekend')) return d.toISOString().slice(0, 10);
  }
}

export interface ReservationView {
  reservation_id: string;
  status: string;
  total: { amount: number; currency: string };
  quantity: number;
  items: { customer_type: string; quantity: number; unit_price: { amount: number; currency: string } }[];
}

export async function reserve(
  sys: System,
  config: Config,
  partnerId: string,
  items: { customer_type: string; quantity: number }[],
  productId = 106,
): Promise<ReservationView> {
  const res = await sys.issuance.inject({
    method: 'POST',
    url: '/api/ota/reservations',
    headers: partnerHeaders(config, partnerId),
    payload: { product_id: productId, visit_date: nextDate(config, 'weekend'), items },
  });
  if (res.statusCode !== 201) throw new Error(`reservation failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function getReservation(sys: System, config: Config, partnerId: string, id: string) {
  const res = await sys.issuance.inject({
    url: `/api/ota/reservations/${id}`,
    headers: partnerHeaders(config, partnerId),
  });
  return res.json() as ReservationView;
}

/** Sends a payment notification signed as the provider would (or with the given signature header). */
export function notify(
  sys: System,
  config: Config,
  body: Record<string, unknown>,
  opts: { signature?: string | null; t?: number; raw?: string } = {},
) {
  const raw = opts.raw ?? JSON.stringify(body);
  const t = opts.t ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.signature !== null)
    headers['x-payment-signature'] = opts.signature ?? signPayment(config.PAYMENT_WEBHOOK_SECRET, raw, t);
  return sys.issuance.inject({ method: 'POST', url: '/payments/notify', headers, payload: raw });
}

/** Tickets of `partnerId` bought through the API: a reservation paid by the provider's webhook (200 checked). */
export async function paidTickets(
  sys: System,
  config: Config,
  partnerId: string,
  items: { customer_type: string; quantity: number }[],
): Promise<string[]> {
  const r = await reserve(sys, config, partnerId, items);
  const paid = await notify(sys, config, {
    payment_id: `pay_${randomUUID()}`,
    reservation_id: r.reservation_id,
    status: 'SUCCEEDED',
    amount: r.total,
  });
  if (paid.statusCode !== 200) throw new Error(`payment failed: ${paid.statusCode} ${paid.body}`);
  return paid.json().tickets.map((t: { ticket_code: string }) => t.ticket_code);
}

/** One pool's counters, read the way issuance reads them: inventory's listPools over NATS. */
export async function poolOf(sys: System, partnerId: string | null, productId: number, channel: string) {
  const reply = await createCommandClient(sys.deps.nc, sys.config.NATS_PREFIX, 5_000).send('listPools', {
    partner_id: partnerId,
  });
  if (!reply.ok) throw new Error(reply.detail);
  const found = reply.pools.find((p) => p.product_id === productId && p.channel === channel);
  if (!found) throw new Error(`no ${channel} pool of ${productId}`);
  return found;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
