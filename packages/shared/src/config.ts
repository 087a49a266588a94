// Configuration for every service: parsed once from the environment (plus a .env file when present),
// validated with zod, and refused with a message naming the bad variable.
import { randomBytes } from 'node:crypto';
import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';

/** Booleans only from explicit words: "yes"/"on" or a typo must not silently become true. */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

// Development defaults: convenient on a laptop, and refused in production (see `weakSecretReason`).
const DEV_ADMIN_TOKEN = 'dev-admin-token';
const DEV_WEBHOOK_SECRET = 'dev-payment-webhook-secret';
const DEV_QR_KEY = 'dev-qr-signing-key-change-me';

/**
 * Values that were ever published as defaults (code, compose, README): production refuses them. The
 * internal secret has no default at all any more; its old value stays listed so nobody reuses it.
 */
export const KNOWN_DEVELOPMENT_SECRETS: readonly string[] = [
  DEV_ADMIN_TOKEN,
  DEV_WEBHOOK_SECRET,
  DEV_QR_KEY,
  'dev-internal-token',
  'dev-admin-token-change-me',
  'dev-payment-webhook-secret-change-me',
  'dev-internal-token-change-me',
  'dev-metrics-token',
];

/** Every secret the configuration holds: in production each must be strong and used for one purpose only. */
export const SECRET_VARIABLES = [
  'ADMIN_TOKEN',
  'PAYMENT_WEBHOOK_SECRET',
  'QR_SIGNING_KEY',
  'INTERNAL_TOKEN',
  'METRICS_TOKEN',
] as const;
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

/** Why a production secret is weak, or null: a known development value, a placeholder, too short. */
export function weakSecretReason(value: string): string | null {
  if (KNOWN_DEVELOPMENT_SECRETS.includes(value)) return 'is a published development value';
  if (/change-?me/i.test(value)) return 'is a placeholder (contains "change-me")';
  if (value.length < MIN_PRODUCTION_SECRET_LENGTH) {
    return `is shorter than ${MIN_PRODUCTION_SECRET_LENGTH} characters (generate one: openssl rand -base64 48)`;
  }
  return null;
}

/** The list fastify's `trustProxy` will compile (the same library), checked at start instead. */
function trustedProxiesValid(value: string): boolean {
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  try {
    proxyAddr.compile(list);
    return true;
  } catch {
    return false;
  }
}

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/cruise'),
    DATABASE_POOL_SIZE: positiveInt.default(20),
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    /** Prefix of every Redis key and BullMQ queue: lets several deployments (or test files) share one Redis. */
    REDIS_PREFIX: z.string().min(1).default('cruise'),
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    /** Prefix of every NATS subject and JetStream stream name, for the same reason. */
    NATS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('cruise'),
    NATS_REQUEST_TIMEOUT_MS: positiveInt.default(5000),
    HOST: z.string().default('127.0.0.1'),
    GATEWAY_PORT: port.default(8080),
    INVENTORY_PORT: port.default(8081),
    ISSUANCE_PORT: port.default(8082),
    REDEMPTION_PORT: port.default(8083),
    NOTIFICATIONS_PORT: port.default(8084),
    INVENTORY_URL: z.string().url().optional(),
    ISSUANCE_URL: z.string().url().optional(),
    REDEMPTION_URL: z.string().url().optional(),
    NOTIFICATIONS_URL: z.string().url().optional(),
    /** The OCTO adapter (services/octo), behind the gateway's `/octo/*`. */
    OCTO_PORT: port.default(8085),
    OCTO_URL: z.string().url().optional(),
    // Secrets: any value in development; production applies `weakSecretReason` and the one-purpose rule.
    ADMIN_TOKEN: z.string().optional(),
    PAYMENT_WEBHOOK_SECRET: z.string().optional(),
    QR_SIGNING_KEY: z.string().optional(),
    /**
     * Key of the HMAC the gateway signs forwarded requests with (internal-auth.ts); every process of a
     * deployment needs the same value. No default: unset, a process generates a random one of its own.
     */
    INTERNAL_TOKEN: z.string().optional(),
    /** Bearer token for /metrics; unset in development means open, required in production. */
    METRICS_TOKEN: z.string().optional(),
    RESERVATION_HOLD_SECONDS: positiveInt.default(86_400),
    /**
     * Group commit of holds on one pool (inventory): at most this many holds decided in one transaction,
     * and the first of a group waits at most HOLD_GROUP_WINDOW_MS for others when none is committing.
     */
    HOLD_GROUP_MAX_SIZE: positiveInt.default(64),
    HOLD_GROUP_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(1),
    QR_TTL_SECONDS: positiveInt.default(1_800),
    BATCH_TENTATIVE_DAYS: positiveInt.default(30),
    EXPIRY_SWEEP_SECONDS: positiveInt.default(30),
    VENUE_TIMEZONE: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'not a known IANA time zone')
      .default('Asia/Shanghai'),
    RATE_LIMIT_PER_MINUTE: positiveInt.default(100),
    /** Per-IP limit for anonymous calls: public routes (/qr/{code}/info) and calls without credentials. */
    PUBLIC_RATE_LIMIT_PER_MINUTE: positiveInt.default(60),
    /** Per-IP limit for refused credentials (bad keys, tokens, device keys, webhook signatures). */
    FAILED_AUTH_RATE_LIMIT_PER_MINUTE: positiveInt.default(60),
    /** Per-device limit for scans with a valid device key (they never touch the per-IP budgets). */
    DEVICE_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
    /**
     * Comma-separated proxies (IPs, CIDRs, or `loopback`/`linklocal`/`uniquelocal`) whose
     * X-Forwarded-For is believed; from anyone else the socket address is the client IP.
     */
    TRUSTED_PROXIES: z
      .string()
      .default('')
      .refine((v) => trustedProxiesValid(v), 'not a comma-separated list of IP addresses or CIDRs'),
    BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
    UPSTREAM_TIMEOUT_MS: positiveInt.default(10_000),
    BATCH_CHUNK_SIZE: positiveInt.default(2_000),
    BATCH_WORKER_CONCURRENCY: positiveInt.default(2),
    /** Run BullMQ workers and schedulers inside the service process (off for HTTP-only replicas). */
    RUN_WORKERS: bool.default(true),
    AUDIT_FLUSH_MS: positiveInt.default(200),
    /** Audit rows older than this are deleted by the gateway's hourly housekeeping. */
    AUDIT_RETENTION_DAYS: positiveInt.default(180),
    /** Webhook URLs may use http and private/loopback addresses (default: true except in production). */
    WEBHOOK_ALLOW_PRIVATE_URLS: bool.optional(),
    /**
     * Delays between delivery attempts, comma-separated milliseconds, replacing the production schedule
     * (5 s, 30 s, 2 min, 10 min, then exponential with jitter for ≥ 24 h); tests use short ones.
     */
    WEBHOOK_RETRY_DELAYS_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
      .transform((s) => s.split(',').map(Number))
      .optional(),
    WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
    /** Deliveries in flight per webhook at once, across all dispatchers (one slow receiver never starves others). */
    WEBHOOK_CONCURRENCY_PER_ENDPOINT: positiveInt.default(4),
    WEBHOOK_WORKER_CONCURRENCY: positiveInt.default(50),
    /** Events stay in the feed this long (the contract promises at least 30 days). */
    EVENT_RETENTION_DAYS: z.coerce.number().int().min(30).default(30),
  })
  .transform((c, ctx) => {
    const production = c.NODE_ENV === 'production';
    if (production) {
      const firstUse = new Map<string, string>();
      for (const name of SECRET_VARIABLES) {
        const value = c[name];
        if (value === undefined) continue; // reported below (or, for METRICS_TOKEN, right here)
        const weak = weakSecretReason(value);
        if (weak) ctx.addIssue({ code: 'custom', path: [name], message: weak });
        const other = firstUse.get(value);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `has the same value as ${other}; use a different secret for each purpose`,
          });
        } else {
          firstUse.set(value, name);
        }
      }
      if (c.METRICS_TOKEN === undefined) {
        ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: 'is required in production' });
      }
      if (c.INTERNAL_TOKEN === undefined) {
        ctx.addIssue({ code: 'custom', path: ['INTERNAL_TOKEN'], message: 'is required in production' });
      }
    }
    const secrets = {
      ADMIN_TOKEN: [c.ADMIN_TOKEN, DEV_ADMIN_TOKEN],
      PAYMENT_WEBHOOK_SECRET: [c.PAYMENT_WEBHOOK_SECRET, DEV_WEBHOOK_SECRET],
      QR_SIGNING_KEY: [c.QR_SIGNING_KEY, DEV_QR_KEY],
    } as const;
    const resolved = {} as Record<keyof typeof secrets, string>;
    for (const [name, [value, dev]] of Object.entries(secrets) as [
      keyof typeof secrets,
      readonly [string | undefined, string],
    ][]) {
      if (value === undefined && c.NODE_ENV === 'production') {
        ctx.addIssue({ code: 'custom', path: [name], message: 'is required in production' });
      }
      resolved[name] = value ?? dev;
    }
    const local = (p: number) => `http://127.0.0.1:${p}`;
    return {
      ...c,
      ...resolved,
      // A random secret of this process alone: it runs, but no signed request from another process
      // verifies (forwarded calls fail closed). `pnpm start` generates one and hands it to all services.
      INTERNAL_TOKEN: c.INTERNAL_TOKEN ?? randomBytes(32).toString('base64url'),
      INTERNAL_TOKEN_GENERATED: c.INTERNAL_TOKEN === undefined,
      INVENTORY_URL: c.INVENTORY_URL ?? local(c.INVENTORY_PORT),
      ISSUANCE_URL: c.ISSUANCE_URL ?? local(c.ISSUANCE_PORT),
      REDEMPTION_URL: c.REDEMPTION_URL ?? local(c.REDEMPTION_PORT),
      NOTIFICATIONS_URL: c.NOTIFICATIONS_URL ?? local(c.NOTIFICATIONS_PORT),
      WEBHOOK_ALLOW_PRIVATE_URLS: c.WEBHOOK_ALLOW_PRIVATE_URLS ?? c.NODE_ENV !== 'production',
      OCTO_URL: c.OCTO_URL ?? local(c.OCTO_PORT),
    };
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses configuration from `env`; empty strings count as unset so `FOO=` in a .env file means "default". */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Reads `.env` from the working directory into process.env when present (never overriding real env). */
export async function loadDotenv(): Promise<void> {
  const { config } = await import('dotenv');
  config({ quiet: true } as never);
}
