// One fault scenario's world: private PostgreSQL/Redis/NATS (infra.ts), the migrated and seeded database,
// the four services as processes, and a direct connection for the invariant checks. `cleanup()` stops
// the services, then the servers, and removes their data, whatever state a scenario left them in.
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import pg from 'pg';
import { type PrivateInfra, type PrivateInfraOptions, startPrivateInfrastructure } from './infra.ts';
import {
  call,
  expectStatus,
  migrateDatabase,
  operator,
  type Partner,
  raiseCapacity,
  type System,
  seedCatalogue,
  startSystem,
  visitDate,
} from './system.ts';

export interface FaultWorld {
  infra: PrivateInfra;
  system: System;
  /** Direct connection to the private database (reads for assertions and invariants). */
  db: Pool;
  op: ReturnType<typeof operator>;
  /** A partner with allocations of its own (so scenarios never share units). */
  newPartner(opts?: {
    rateLimitPerMinute?: number;
    ota?: Record<number, number>;
    reseller?: Record<number, number>;
  }): Promise<Partner>;
  cleanup(): Promise<void>;
}

export async function startFaultWorld(
  opts: {
    env?: Record<string, string>;
    infra?: PrivateInfraOptions;
    withNotifications?: boolean;
    readyTimeoutMs?: number;
  } = {},
): Promise<FaultWorld> {
  const infra = await startPrivateInfrastructure(opts.infra);
  let system: System | undefined;
  let db: Pool | undefined;
  try {
    const databaseUrl = infra.databaseUrl('cruise');
    await migrateDatabase(databaseUrl);
    await seedCatalogue(databaseUrl);
    // Seeded capacity is 10,000 per product; scenarios give each partner its own allocations.
    await raiseCapacity(databaseUrl, 1_000_000);
    system = await startSystem({
      databaseUrl,
      redisUrl: infra.redis.url,
      natsUrl: infra.nats.url,
      prefix: `f${randomBytes(4).toString('hex')}`,
      withNotifications: opts.withNotifications,
      readyTimeoutMs: opts.readyTimeoutMs,
      env: {
        UPSTREAM_TIMEOUT_MS: '5000',
        NATS_REQUEST_TIMEOUT_MS: '2000',
        // Retries of queued work (pool releases, stranded batches) come round quickly in a short test.
        EXPIRY_SWEEP_SECONDS: '2',
        ...opts.env,
      },
    });
    db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    db.on('error', () => {});
    const sys = system;
    const op = operator(sys);
    return {
      infra,
      system: sys,
      db,
      op,
      async newPartner(p = {}) {
        const partner = await op.createPartner(
          `partner-${randomBytes(3).toString('hex')}`,
          p.rateLimitPerMinute ?? 100_000,
        );
        for (const [product, n] of Object.entries(p.ota ?? {}))
          await op.allocate(partner.partner_id, Number(product), 'ota', n);
        for (const [product, n] of Object.entries(p.reseller ?? {})) {
          await op.allocate(partner.partner_id, Number(product), 'reseller', n);
        }
        return partner;
      },
      async cleanup() {
        await sys.stop();
        await db?.end().catch(() => {});
        await infra.stop();
      },
    };
  } catch (err) {
    await system?.stop();
    await db?.end().catch(() => {});
    await infra.stop();
    throw err;
  }
}

/** Holds `quantity` adult units of `productId` for a partner; returns the reservation. */
export async function reserve(
  system: Pick<System, 'gateway'>,
  partner: Partner,
  productId: number,
  quantity = 1,
  opts: { idempotencyKey?: string; timeoutMs?: number } = {},
) {
  return call('POST', `${system.gateway}/api/ota/reservations`, {
    token: partner.api_key,
    headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
    body: { product_id: productId, visit_date: visitDate(2), items: [{ customer_type: 'adult', quantity }] },
    timeoutMs: opts.timeoutMs,
  });
}

export async function reserveOk(
  system: Pick<System, 'gateway'>,
  partner: Partner,
  productId: number,
  quantity = 1,
) {
  return expectStatus(await reserve(system, partner, productId, quantity), 201, 'reserve') as {
    reservation_id: string;
    total: { amount: number; currency: string };
    quantity: number;
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
      if ((err as Error).message.includes(' exited (')) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms${last ? ` (${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
