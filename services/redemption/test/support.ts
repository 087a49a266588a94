// Test support for the redemption service: the app with real dependencies, callers' headers, ticket
// snapshots, issuance's events published onto the real stream, and a real NATS responder standing in
// for issuance's `ticketSnapshot` command (serving the snapshots a test hands it).
import { randomUUID } from 'node:crypto';
import {
  type App,
  type Config,
  closeServiceDeps,
  createServiceDeps,
  type EventName,
  events,
  HEADER,
  newTicketCode,
  publishEvent,
  respond,
  type ServiceDeps,
  type TicketSnapshot,
} from '@cruise/shared';
import { injectAsGateway } from '@cruise/testkit';
import type { Subscription } from 'nats';
import { buildApp } from '../src/app.ts';

export interface Running {
  app: App;
  deps: ServiceDeps;
  close(): Promise<void>;
}

export async function startRedemption(config: Config): Promise<Running> {
  const deps = await createServiceDeps(config, 'redemption-test');
  const app = injectAsGateway(await buildApp(config, deps, { logger: false }), config.INTERNAL_TOKEN);
  return {
    app,
    deps,
    async close() {
      await app.close();
      await closeServiceDeps(deps);
    },
  };
}

/** The caller headers the gateway adds; the app from `startRedemption` signs them as the gateway does. */
export function adminHeaders(_config: Config): Record<string, string> {
  return { [HEADER.callerKind]: 'admin' };
}

export function partnerHeaders(_config: Config, partnerId: string): Record<string, string> {
  return {
    [HEADER.callerKind]: 'partner',
    [HEADER.partnerId]: partnerId,
  };
}

export async function createDevice(
  app: App,
  config: Config,
  venue = 'Pier 3',
  name = 'Gate A',
  extra: { manual_entry?: boolean } = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/admin/devices',
    headers: adminHeaders(config),
    payload: { venue, name, ...extra },
  });
  if (res.statusCode !== 201) throw new Error(`device creation failed: ${res.body}`);
  return res.json() as { device_id: string; device_key: string };
}

let revisions = 0;
export function snapshot(overrides: Partial<TicketSnapshot> = {}): TicketSnapshot {
  return {
    ticket_code: newTicketCode(),
    partner_id: randomUUID(),
    channel: 'ota',
    product_id: 106,
    product_name: 'Premium Cruise Package',
    status: 'ACTIVE',
    entitlements: [
      { function_code: 'FERRY', redeemed_at: null },
      { function_code: 'LUNCH', redeemed_at: null },
      { function_code: 'SHOW', redeemed_at: null },
    ],
    revision: ++revisions,
    created_at: new Date().toISOString(),
    ...overrides,
  };
}

const EVENT_BY_STATUS = {
  ACTIVE: 'ticketsIssued',
  PRE_GENERATED: 'ticketsIssued',
  CANCELLED: 'ticketsCancelled',
  EXPIRED: 'ticketsExpired',
  USED: 'ticketsActivated',
} as const satisfies Record<TicketSnapshot['status'], EventName>;

/** Publishes ticket snapshots as issuance would (one event carrying them all). */
export async function publishTickets(
  deps: Pick<ServiceDeps, 'nc'>,
  config: Config,
  tickets: TicketSnapshot[],
  name: 'ticketsIssued' | 'ticketsActivated' | 'ticketsCancelled' | 'ticketsExpired' = EVENT_BY_STATUS[
    tickets[0]!.status
  ],
): Promise<void> {
  const def = events[name];
  await publishEvent(
    deps.nc,
    config.NATS_PREFIX,
    {
      id: randomUUID(),
      type: def.subject.split('.').slice(2).join('.'),
      occurred_at: new Date().toISOString(),
      data: def.data.parse({ tickets }),
    },
    def.subject,
  );
}

/** A real responder for `ticketSnapshot` over NATS, answering from the snapshots put into `tickets`. */
export function fakeIssuanceSnapshots(deps: ServiceDeps, config: Config) {
  const tickets = new Map<string, TicketSnapshot>();
  let asked = 0;
  const sub: Subscription = respond(
    deps.nc,
    config.NATS_PREFIX,
    'ticketSnapshot',
    'issuance',
    async ({ ticket_code }) => {
      asked++;
      const ticket = tickets.get(ticket_code);
      return ticket ? { ok: true, ticket } : { ok: false, code: 'NOT_FOUND', detail: 'No such ticket' };
    },
    deps.log,
  );
  return {
    put(t: TicketSnapshot) {
      tickets.set(t.ticket_code, t);
      return t;
    },
    asked: () => asked,
    stop: () => sub.unsubscribe(),
  };
}

/** Polls until `check` returns a truthy value (the deadline only bounds a failing test). */
export async function eventually<T>(
  check: () => Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function projectedRevision(deps: ServiceDeps, ticketCode: string): Promise<number | null> {
  const { rows } = await deps.pool.query<{ revision: number }>(
    'SELECT revision FROM redemption.tickets WHERE ticket_code = $1',
    [ticketCode],
  );
  return rows[0]?.revision ?? null;
}

/** Puts tickets into the projection through the real event path and waits until they are applied. */
export async function projectTickets(
  running: Running,
  config: Config,
  tickets: TicketSnapshot[],
  name?: Parameters<typeof publishTickets>[3],
) {
  await publishTickets(running.deps, config, tickets, name);
  for (const t of tickets) {
    await eventually(
      async () => ((await projectedRevision(running.deps, t.ticket_code)) ?? -1) >= t.revision,
      `ticket ${t.ticket_code} projected`,
    );
  }
  return tickets;
}
