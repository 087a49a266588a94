// Fault: partner webhooks through a receiver outage, a dispatcher killed mid-delivery, a NATS restart and
// a Redis restart that loses every queued job (no persistence). Private PostgreSQL/Redis/NATS, all five
// services as processes, the webhook created through the gateway. Afterwards every event has reached the
// receiver at least once, and its dedupe by `webhook-id` leaves exactly one of each.
import { createServer, type Server } from 'node:http';
import { freePort } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type FaultWorld, startFaultWorld } from './fault-system.ts';
import { call, expectStatus, type Partner } from './system.ts';

/** A receiver on a fixed port that can go away and come back; dedupes by webhook-id like a partner would. */
function createReceiver(port: number) {
  let server: Server | undefined;
  const accepted = new Set<string>();
  const state = { requests: 0, inFlight: 0, delayMs: 0 };
  return {
    accepted,
    state,
    url: `http://127.0.0.1:${port}/hook`,
    async up() {
      server = createServer((req, res) => {
        state.requests++;
        state.inFlight++;
        req.resume();
        req.on('end', async () => {
          if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
          accepted.add(String(req.headers['webhook-id']));
          state.inFlight--;
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

let world: FaultWorld;
let receiver: ReturnType<typeof createReceiver>;

beforeAll(async () => {
  world = await startFaultWorld({
    withNotifications: true,
    // Five services start at once on a shared two-core machine.
    readyTimeoutMs: 180_000,
    // Without persistence a Redis restart loses every BullMQ job: the delivery rows must carry the day.
    infra: { redisPersistence: false },
    env: {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_DELAYS_MS: Array.from({ length: 200 }, (_, i) => (i < 2 ? 500 : 1_000)).join(','),
    },
  });
  receiver = createReceiver(await freePort());
  await receiver.up();
}, 400_000);

afterAll(async () => {
  await receiver?.down();
  await world?.cleanup();
}, 60_000);

describe('webhooks through faults', () => {
  it('every event is delivered at least once and exactly once after dedupe', async () => {
    const { system, infra, op } = world;
    const partner: Partner = await world.newPartner({ ota: { 106: 10 } });
    const created = await call('POST', `${system.gateway}/api/ota/webhooks`, {
      token: partner.api_key,
      body: { url: receiver.url, events: ['allocation.updated', 'reservation.cancelled'] },
    });
    expectStatus(created, 201, 'create webhook through the gateway');
    let allocated = 10;
    const changes = async (n: number) => {
      // Each allocation change is one allocation.updated event (ota pool of product 106).
      for (let i = 0; i < n; i++) await op.allocate(partner.partner_id, 106, 'ota', ++allocated);
    };
    const pendingWithErrors = async () => {
      const { rows } = await world.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status = 'PENDING' AND attempts > 0`,
      );
      return rows[0]!.n > 0 ? true : undefined;
    };

    // 1. The receiver is down for a while: attempts fail (connection refused) and are retried.
    await receiver.down();
    await changes(5);
    await eventually('attempts failing while the receiver is down', pendingWithErrors, 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    await receiver.up();

    // 2. The dispatcher is killed while deliveries are in flight at a slow receiver.
    receiver.state.delayMs = 3_000;
    await changes(5);
    await eventually(
      'deliveries in flight',
      async () => (receiver.state.inFlight > 0 ? true : undefined),
      60_000,
    );
    await system.services.get('notifications')!.kill();
    receiver.state.delayMs = 0;
    await changes(2); // committed at the source while no dispatcher runs
    await system.start('notifications');

    // 3. NATS restarts while changes are committed: the outboxes hold them until it is back.
    await infra.nats.stop();
    await changes(4);
    await infra.nats.start();

    // 4. Redis restarts empty: queued and delayed jobs are gone.
    await infra.redis.stop();
    await changes(4);
    await infra.redis.start();
    await changes(2);

    // 22 changes since the webhook was created, plus the partner's first allocation before it.
    const expected = 22;
    const all = await eventually(
      'every event stored',
      async () => {
        const { rows } = await world.db.query<{ event_id: string; allocated: number; revision: number }>(
          `SELECT event_id, (payload->'data'->'pool'->>'allocated')::int AS allocated, revision
           FROM notifications.events WHERE partner_id = $1 ORDER BY position`,
          [partner.partner_id],
        );
        return rows.length >= expected + 1 ? rows : undefined;
      },
      120_000,
    );
    // One event per committed change, none doubled by redeliveries. Feed order is the order events
    // reached the notifications store: messages a killed consumer had pulled come back after JetStream's
    // ack wait, behind later ones; the revision restores each object's order.
    expect(all.map((r) => r.allocated).sort((a, b) => a - b)).toEqual(
      Array.from({ length: expected + 1 }, (_, i) => 10 + i),
    );
    const byRevision = [...all].sort((a, b) => a.revision - b.revision).map((r) => r.allocated);
    expect(byRevision).toEqual(Array.from({ length: expected + 1 }, (_, i) => 10 + i));
    const ids = all.filter((r) => r.allocated > 10).map((r) => r.event_id);
    await eventually(
      'every event at the receiver',
      async () => (ids.every((id) => receiver.accepted.has(id)) ? true : undefined),
      180_000,
    );
    // The partner's first allocation may reach the webhook too (it was stored after the webhook was
    // created), later than the others: wait until every delivery has SUCCEEDED (recorded only after the
    // receiver answered), then the receiver holds exactly one of each delivered event, nothing else.
    await eventually(
      'every delivery SUCCEEDED',
      async () => {
        const { rows: r } = await world.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM notifications.deliveries WHERE status <> 'SUCCEEDED'`,
        );
        return r[0]!.n === 0 ? true : undefined;
      },
      60_000,
    );
    const { rows: delivered } = await world.db.query<{ event_id: string }>(
      'SELECT DISTINCT event_id FROM notifications.deliveries',
    );
    expect(new Set(receiver.accepted)).toEqual(new Set(delivered.map((r) => r.event_id)));
    expect(receiver.accepted.size).toBe(delivered.length);
    expect(receiver.state.requests).toBeGreaterThanOrEqual(delivered.length);

    // The feed through the gateway holds the same events, each once.
    const feed = await call('GET', `${system.gateway}/api/ota/events?limit=500`, { token: partner.api_key });
    const feedIds = (expectStatus(feed, 200, 'feed') as { data: { event_id: string }[] }).data.map(
      (e) => e.event_id,
    );
    expect(feedIds).toEqual(all.map((r) => r.event_id));
  }, 600_000);
});
