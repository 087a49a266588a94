// Test harness: builds the real inventory app against the test context's PostgreSQL/Redis/NATS, and the
// internal headers the gateway would add for a partner or the operator.
import { randomUUID } from 'node:crypto';
import {
  type App,
  type Config,
  closeServiceDeps,
  createServiceDeps,
  type ServiceDeps,
  venueDate,
} from '@cruise/shared';
import { injectAsGateway } from '@cruise/testkit';
import { buildApp, type InventoryAppOptions, setAllocation } from '../src/index.ts';

export interface RunningInventory {
  app: App;
  deps: ServiceDeps;
  close(): Promise<void>;
}

export async function startInventory(
  config: Config,
  opts: InventoryAppOptions = {},
): Promise<RunningInventory> {
  const deps = await createServiceDeps(config, 'inventory');
  const app = injectAsGateway(
    await buildApp(config, deps, { logger: false, ...opts }),
    config.INTERNAL_TOKEN,
  );
  await app.ready();
  return {
    app,
    deps,
    async close() {
      await app.close();
      await closeServiceDeps(deps);
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

/** A new partner with an ota (and optionally reseller) allocation of one product. */
export async function newPartner(
  deps: ServiceDeps,
  allocations: { productId: number; channel: 'ota' | 'reseller'; allocated: number }[],
): Promise<string> {
  const partnerId = randomUUID();
  for (const a of allocations) {
    const r = await setAllocation(deps.pool, { ...a, partnerId });
    if (!r.ok) throw new Error(r.detail);
  }
  return partnerId;
}

/** The next date (from tomorrow on, venue calendar) whose day is weekend or weekday. */
export function nextDate(config: Config, kind: 'weekday' | 'weekend'): string {
  const today = venueDate(new Date(), config.VENUE_TIMEZONE);
  const d = new Date(`${today}T00:00:00Z`);
  for (;;) {
    d.setUTCDate(d.getUTCDate() + 1);
    const day = d.getUTCDay();
    if ((day === 0 || day === 6) === (kind === 'weekend')) return d.toISOString().slice(0, 10);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
