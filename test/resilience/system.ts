// The whole system as real processes against a given PostgreSQL/Redis/NATS: migrate and seed the
// database, start inventory, issuance, redemption and the gateway on free ports, and drive them as an
// operator, a partner, a payment provider and a scanner would. Used by the resilience suite and the bench.
import { randomBytes } from 'node:crypto';
import { signPayment } from '@cruise/client';
import { freePort, type RunningService, type ServiceName, startService } from '@cruise/testkit';
import pg from 'pg';

export const SERVICE_NAMES: ServiceName[] = ['inventory', 'issuance', 'redemption', 'octo', 'gateway'];

export interface SystemOptions {
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  /** REDIS_PREFIX and NATS_PREFIX (one per run so runs never see each other's keys or subjects). */
  prefix?: string;
  /** Extra env for every service (e.g. RESERVATION_HOLD_SECONDS, BATCH_CHUNK_SIZE). */
  env?: Record<string, string>;
  /** Extra env per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  readyTimeoutMs?: number;
  /** Also run the notifications service (webhooks and the event feed). */
  withNotifications?: boolean;
}

export interface System {
  env: Record<string, string>;
  secrets: {
    adminToken: string;
    webhookSecret: string;
    internalToken: string;
    qrKey: string;
    metricsToken: string;
  };
  services: Map<ServiceName, RunningService>;
  ports: Record<ServiceName, number>;
  url(name: ServiceName): string;
  gateway: string;
  /** Starts one service (again) on its port, e.g. after a kill. */
  start(name: ServiceName, extraEnv?: Record<string, string>): Promise<RunningService>;
  stop(): Promise<void>;
  logs(name: ServiceName): string;
}

/** Creates the database when missing and applies every service's committed migrations. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const { ensureDatabase, runMigrations } = await import('@cruise/shared');
  const { migrationSets } = await import('../../scripts/migration-sets.ts');
  await ensureDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    for (const set of migrationSets) await runMigrations(pool, set);
  } finally {
    await pool.end();
  }
}

/** The catalogue (products, functions, prices, direct pools), as `pnpm start` seeds it. */
export async function seedCatalogue(databaseUrl: string): Promise<void> {
  const inventory = (await import('@cruise/inventory')) as Record<string, unknown>;
  const seed = inventory.seedCatalogue as ((pool: unknown) => Promise<unknown>) | undefined;
  if (typeof seed !== 'function') throw new Error('@cruise/inventory does not export seedCatalogue yet');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    await seed(pool);
  } finally {
    await pool.end();
  }
}

export async function startSystem(opts: SystemOptions): Promise<System> {
  const prefix = opts.prefix ?? `r${randomBytes(5).toString('hex')}`;
  const secrets = {
    // Production mode: each secret strong (>= 32 characters) and distinct, as the config demands.
    adminToken: `admin-${randomBytes(24).toString('hex')}`,
    webhookSecret: `whsec-${randomBytes(24).toString('hex')}`,
    internalToken: `internal-${randomBytes(24).toString('hex')}`,
    qrKey: `qr-${randomBytes(24).toString('hex')}`,
    metricsToken: `metrics-${randomBytes(24).toString('hex')}`,
  };
  const ports = {} as Record<ServiceName, number>;
  const names: ServiceName[] = opts.withNotifications
    ? [...SERVICE_NAMES.filter((n) => n !== 'gateway'), 'notifications', 'gateway']
    : SERVICE_NAMES;
  for (const name of names) ports[name] = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.SYSTEM_LOG_LEVEL ?? 'warn',
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    REDIS_PREFIX: prefix,
    NATS_URL: opts.natsUrl,
    NATS_PREFIX: prefix,
    ADMIN_TOKEN: secrets.adminToken,
    PAYMENT_WEBHOOK_SECRET: secrets.webhookSecret,
    INTERNAL_TOKEN: secrets.internalToken,
    QR_SIGNING_KEY: secrets.qrKey,
    METRICS_TOKEN: secrets.metricsToken,
    INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`,
    ISSUANCE_URL: `http://127.0.0.1:${ports.issuance}`,
    REDEMPTION_URL: `http://127.0.0.1:${ports.redemption}`,
    ...(opts.withNotifications ? { NOTIFICATIONS_URL: `http://127.0.0.1:${ports.notifications}` } : {}),
    OCTO_URL: `http://127.0.0.1:${ports.octo}`,
    ...opts.env,
  };
  const services = new Map<ServiceName, RunningService>();
  const start = async (name: ServiceName, extraEnv: Record<string, string> = {}) => {
    const running = await startService(
      name,
      { ...env, ...opts.serviceEnv?.[name], ...extraEnv },
      { port: ports[name], readyTimeoutMs: opts.readyTimeoutMs ?? 60_000 },
    );
    services.set(name, running);
    return running;
  };
  const system: System = {
    env,
    secrets,
    services,
    ports,
    url: (name) => `http://127.0.0.1:${ports[name]}`,
    gateway: `http://127.0.0.1:${ports.gateway}`,
    start,
    async stop() {
      await Promise.allSettled([...services.values()].map((s) => s.stop()));
    },
    logs: (name) => services.get(name)?.logs() ?? '',
  };
  try {
    // The back-ends together (each migrates only its own schema), then the OCTO adapter (it only asks
    // them) with the gateway in front: fewer processes booting at once on a loaded machine.
    // allSettled: when one fails to start, the others still booting finish first, so the stop below
    // reaches them too (with Promise.all they became ready after it and outlived the test run).
    const edge: ServiceName[] = ['octo', 'gateway'];
    const phase = async (group: ServiceName[]) => {
      const failed = (await Promise.allSettled(group.map((n) => start(n)))).find(
        (r) => r.status === 'rejected',
      );
      if (failed) throw failed.reason;
    };
    await phase(names.filter((n) => !edge.includes(n)));
    await phase(names.filter((n) => edge.includes(n)));
  } catch (err) {
    await system.stop();
    throw err;
  }
  return system;
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A JSON call; never throws on an HTTP status, only on a network failure. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely by tests and the bench
export async function call<T = any>(
  method: string,
  url: string,
  opts: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (CSV, metrics)
  }
  return { status: res.status, headers: res.headers, body: body as T, text };
}

export function expectStatus<T>(res: HttpResult<T>, status: number, what: string): T {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  return res.body;
}

/** `X-Payment-Signature` for a raw webhook body (the client's signer: one implementation everywhere). */
export function signWebhook(secret: string, rawBody: string, at = Math.floor(Date.now() / 1000)): string {
  return signPayment(secret, rawBody, at);
}

export interface Partner {
  partner_id: string;
  api_key: string;
}

/** The operator's side of the gateway. */
export function operator(system: Pick<System, 'gateway' | 'secrets'>) {
  const token = system.secrets.adminToken;
  const base = system.gateway;
  return {
    async createPartner(name: string, rateLimitPerMinute = 100): Promise<Partner> {
      const res = await call('POST', `${base}/api/admin/partners`, {
        token,
        body: { name, rate_limit_per_minute: rateLimitPerMinute },
      });
      return expectStatus(res, 201, 'create partner') as Partner;
    },
    async allocate(partnerId: string, productId: number, channel: 'ota' | 'reseller', allocated: number) {
      const res = await call('PUT', `${base}/api/admin/partners/${partnerId}/allocations`, {
        token,
        body: { product_id: productId, channel, allocated },
      });
      return expectStatus(res, 200, `allocate ${channel} ${productId}`);
    },
    async allocateDirect(productId: number, allocated: number) {
      const res = await call('PUT', `${base}/api/admin/direct/allocations`, {
        token,
        body: { product_id: productId, allocated },
      });
      return expectStatus(res, 200, `allocate direct ${productId}`);
    },
    async createDevice(
      venue = 'Pier 3',
      name = 'Gate A',
    ): Promise<{ device_id: string; device_key: string }> {
      const res = await call('POST', `${base}/api/admin/devices`, { token, body: { venue, name } });
      return expectStatus(res, 201, 'create device') as { device_id: string; device_key: string };
    },
    async directOrder(
      productId: number,
      visitDate: string,
      items: { customer_type: string; quantity: number }[],
    ) {
      const res = await call('POST', `${base}/api/direct/orders`, {
        token,
        body: { product_id: productId, visit_date: visitDate, items },
      });
      return expectStatus(res, 201, 'direct order') as {
        order_id: string;
        tickets: { ticket_code: string }[];
      };
    },
  };
}

/** Pays a reservation through the webhook as the payment provider would. */
export async function pay(
  system: Pick<System, 'gateway' | 'secrets'>,
  reservation: { reservation_id: string; total: { amount: number; currency: string } },
  paymentId: string,
  opts: { status?: 'SUCCEEDED' | 'FAILED'; timeoutMs?: number } = {},
) {
  const raw = JSON.stringify({
    payment_id: paymentId,
    reservation_id: reservation.reservation_id,
    status: opts.status ?? 'SUCCEEDED',
    amount: reservation.total,
    paid_at: new Date().toISOString(),
  });
  return call('POST', `${system.gateway}/payments/notify`, {
    rawBody: raw,
    headers: { 'x-payment-signature': signWebhook(system.secrets.webhookSecret, raw) },
    timeoutMs: opts.timeoutMs,
  });
}

/** Tomorrow in UTC as YYYY-MM-DD: always a valid future visit date. */
export function visitDate(daysAhead = 1): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
}

/** Raises every product's total capacity (bench and fault scenarios need more than the seeded 10000). */
export async function raiseCapacity(databaseUrl: string, capacity: number): Promise<string> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const { rows } = await pool.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'inventory' AND column_name IN ('capacity', 'total_capacity')`,
    );
    const target = rows[0];
    if (!target) throw new Error('no capacity column found in the inventory schema');
    await pool.query(`UPDATE inventory."${target.table_name}" SET "${target.column_name}" = $1`, [capacity]);
    return `inventory.${target.table_name}.${target.column_name} = ${capacity}`;
  } finally {
    await pool.end();
  }
}
