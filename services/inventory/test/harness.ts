// Test harness: builds the real inventory app against the test context's PostgreSQL/Redis/NATS, and the
// internal headers the gateway would add for a partner or the operator.
import { randomUUID } from 'node:crypto';
import {
  type App,
  type Config,
  closeServiceDeps,
  commands,
  createServiceDeps,
  deleteEventStream,
  ERROR_STATUS,
  isErrorCode,
  type NatsConnection,
  type ServiceDeps,
  stableJson,
  subject,
  toProblem,
  venueDate,
} from '@cruise/shared';
import { injectAsGateway } from '@cruise/testkit';
import { JSONCodec } from 'nats';
import { buildApp, type InventoryAppOptions, setAllocation } from '../src/index.ts';

export interface RunningInventory {
  app: App;
  deps: ServiceDeps;
  config: Config;
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
    config,
    async close() {
      await app.close();
      await closeServiceDeps(deps);
    },
  };
}

/**
 * An instance (or, started twice with the same `name`, a group of them) whose NATS subjects have their
 * own prefix, so the commands sent to it are answered by it alone and not by the file's other instances
 * (the same database). Its event stream is deleted when it closes.
 */
export async function startInventoryApart(
  config: Config,
  name: string,
  opts: InventoryAppOptions = {},
): Promise<RunningInventory> {
  const running = await startInventory({ ...config, NATS_PREFIX: `${config.NATS_PREFIX}${name}` }, opts);
  return {
    ...running,
    async close() {
      await deleteEventStream(running.deps.nc, running.config.NATS_PREFIX).catch(() => {});
      await running.close();
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

/** An answer shaped like an injected HTTP response, so reservation tests read the same for both paths. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON body freely, as with inject
  json(): any;
}

const codec = JSONCodec<unknown>();

/**
 * How long a test's caller waits for an answer: 30 s, not the services' 5 s. Forty holds queued on one pool
 * row of a busy shared machine can take longer than 5 s, and a caller that gives up then measures the
 * machine, not the guard under test (a timeout still fails the test, within vitest's 60 s).
 */
export const CALLER_TIMEOUT_MS = 30_000;

/**
 * Sends one of inventory's commands over NATS exactly as bytes (no client-side validation, so a test can
 * send what a faulty caller would) and renders the reply as issuance's route does: a refusal becomes its
 * problem document with the code's status; `ok` is `render(reply)`.
 */
async function command(
  nc: NatsConnection,
  config: Config,
  name: 'createReservation' | 'partnerReservation',
  request: unknown,
): Promise<Answer> {
  const msg = await nc.request(subject(config.NATS_PREFIX, commands[name].subject), codec.encode(request), {
    timeout: CALLER_TIMEOUT_MS,
  });
  const reply = codec.decode(msg.data) as {
    ok: boolean;
    code?: string;
    detail?: string;
    extensions?: Record<string, unknown>;
    status?: number;
    replayed?: boolean;
    reservation?: Record<string, unknown>;
  };
  if (!reply.ok) {
    if (!isErrorCode(reply.code)) throw new Error(`not a refusal: ${JSON.stringify(reply)}`);
    const problem = toProblem(reply.code, reply.detail, undefined, reply.extensions);
    return answer(ERROR_STATUS[reply.code], problem);
  }
  const body = { ...reply.reservation, tickets: [] };
  return answer(reply.status ?? 200, body, reply.replayed ? { 'idempotent-replayed': 'true' } : {});
}

/** `body` is key-order independent (a replayed reservation comes from jsonb, whose key order differs). */
function answer(statusCode: number, value: unknown, headers: Record<string, string> = {}): Answer {
  const body = stableJson(value);
  return { statusCode, headers, body, json: () => JSON.parse(body) };
}

/**
 * A partner's reservation as issuance asks inventory for it (issuance serves POST /api/ota/reservations:
 * it checks the reseller, then sends `createReservation`); `key` is the request's Idempotency-Key.
 */
export function createReservation(
  nc: NatsConnection,
  config: Config,
  partnerId: string,
  reservation: unknown,
  key?: string,
): Promise<Answer> {
  return command(nc, config, 'createReservation', {
    partner_id: partnerId,
    ...(key === undefined ? {} : { idempotency_key: key }),
    reservation,
  });
}

/** One of a partner's reservations as issuance reads it for GET /api/ota/reservations/{id} (no tickets). */
export function readReservation(
  nc: NatsConnection,
  config: Config,
  partnerId: string,
  reservationId: string,
): Promise<Answer> {
  return command(nc, config, 'partnerReservation', { partner_id: partnerId, reservation_id: reservationId });
}
