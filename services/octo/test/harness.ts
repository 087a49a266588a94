// The OCTO adapter as a reseller meets it: inventory, issuance and octo listening on their own ports
// in this process, the real gateway in front of them (partner keys, limits, audit, forwarding), all on
// the test context's PostgreSQL/Redis/NATS. Requests go through the gateway with a partner's API key.
import { buildApp as buildGateway } from '@cruise/gateway';
import { buildApp as buildInventory, type InventoryAppOptions } from '@cruise/inventory';
import { buildApp as buildIssuance } from '@cruise/issuance';
import {
  type App,
  type Config,
  closeServiceDeps,
  createServiceDeps,
  type ServiceDeps,
  venueDate,
} from '@cruise/shared';
import { createTestContext, freePort, type TestContext } from '@cruise/testkit';
import { buildApp as buildOcto } from '../src/index.ts';

export const ADMIN_TOKEN = 'octo-test-admin-token-0123456789';

export interface OctoSystem {
  ctx: TestContext;
  config: Config;
  gateway: App;
  octo: App;
  inventoryDeps: ServiceDeps;
  close(): Promise<void>;
}

export async function startOctoSystem(opts: { inventory?: InventoryAppOptions } = {}): Promise<OctoSystem> {
  const ports = { inventory: await freePort(), issuance: await freePort(), octo: await freePort() };
  const ctx = await createTestContext({
    ADMIN_TOKEN,
    INVENTORY_PORT: String(ports.inventory),
    ISSUANCE_PORT: String(ports.issuance),
    OCTO_PORT: String(ports.octo),
    RUN_WORKERS: 'false',
    // 40 racing bookings on a loaded 2-core machine can queue past the 5 s default; a command that times
    // out is a 503 for the reseller (the retry with the same uuid is idempotent), not what these tests probe.
    NATS_REQUEST_TIMEOUT_MS: '30000',
    UPSTREAM_TIMEOUT_MS: '60000',
  });
  const config = ctx.config;
  const started: { app: App; deps: ServiceDeps }[] = [];
  const start = async (
    name: string,
    build: (c: Config, d: ServiceDeps) => Promise<App>,
    port?: number,
  ): Promise<{ app: App; deps: ServiceDeps }> => {
    const deps = await createServiceDeps(config, name);
    const app = await build(config, deps);
    if (port === undefined) await app.ready();
    else await app.listen({ port, host: '127.0.0.1' });
    started.push({ app, deps });
    return { app, deps };
  };
  const inventory = await start(
    'inventory',
    (c, d) => buildInventory(c, d, { logger: false, ...opts.inventory }),
    ports.inventory,
  );
  await start('issuance', (c, d) => buildIssuance(c, d, { logger: false, workers: false }), ports.issuance);
  const octo = await start('octo', (c, d) => buildOcto(c, d, { logger: false }), ports.octo);
  const gateway = await start('gateway', (c, d) => buildGateway(c, d, { logger: false }));
  return {
    ctx,
    config,
    gateway: gateway.app,
    octo: octo.app,
    inventoryDeps: inventory.deps,
    async close() {
      for (const s of started.reverse()) {
        await s.app.close();
        await closeServiceDeps(s.deps);
      }
      await ctx.cleanup();
    },
  };
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A partner created through the operator API, with an ota allocation of each product given. */
export async function createPartner(
  sys: OctoSystem,
  allocations: Record<number, number>,
  rateLimit = 10_000,
): Promise<{ partner_id: string; api_key: string }> {
  const res = await sys.gateway.inject({
    method: 'POST',
    url: '/api/admin/partners',
    headers: admin,
    payload: {
      name: `OCTO reseller ${Math.random().toString(36).slice(2, 8)}`,
      rate_limit_per_minute: rateLimit,
    },
  });
  if (res.statusCode !== 201) throw new Error(`create partner: ${res.statusCode} ${res.body}`);
  const partner = res.json();
  for (const [productId, allocated] of Object.entries(allocations)) {
    const put = await sys.gateway.inject({
      method: 'PUT',
      url: `/api/admin/partners/${partner.partner_id}/allocations`,
      headers: admin,
      payload: { product_id: Number(productId), channel: 'ota', allocated },
    });
    if (put.statusCode !== 200) throw new Error(`allocate: ${put.statusCode} ${put.body}`);
  }
  return partner;
}

/** A partner's client of the gateway: JSON in, status/headers/JSON out. */
export function client(sys: OctoSystem, apiKey: string) {
  const call = async (
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await sys.gateway.inject({
      method,
      url,
      headers: { authorization: `Bearer ${apiKey}`, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: responses are checked against the OCTO schemas by the tests
    let json: any;
    try {
      json = res.json();
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: json, text: res.body };
  };
  return {
    get: (url: string, headers?: Record<string, string>) => call('GET', url, undefined, headers),
    post: (url: string, body?: unknown, headers?: Record<string, string>) => call('POST', url, body, headers),
  };
}

/** The venue's date `days` from today. */
export function venueDay(config: Config, days: number): string {
  const today = venueDate(new Date(), config.VENUE_TIMEZONE);
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
