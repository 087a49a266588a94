// Fault: one of two inventory instances killed (-9) while partners keep holding units. The gateway
// reaches inventory's HTTP routes through a round-robin TCP balancer (as it would in production), and
// NATS commands go to both through the queue group: a hold is issuance's route, which asks inventory's
// createReservation (a command in flight to the killed instance times out: 503, retried with the key). Holds must continue on the survivor, nothing may be oversold,
// and a partner retrying with its Idempotency-Key must end up with exactly one hold per key.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { freePort, type RunningService, startService } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultWorld, reserve, startFaultWorld } from './fault-system.ts';
import { describeViolations, waitForInvariants } from './invariants.ts';
import { call, expectStatus, pay } from './system.ts';

/** A TCP round-robin balancer: each new connection goes to the next backend that accepts it. */
function startBalancer(port: number, backends: number[]) {
  const connections = new Map<number, number>(backends.map((b) => [b, 0]));
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const tryBackend = (attempt: number) => {
      if (attempt >= backends.length) return client.destroy();
      const port = backends[next++ % backends.length]!;
      const upstream = net.connect({ port, host: '127.0.0.1' });
      upstream.once('connect', () => {
        connections.set(port, (connections.get(port) ?? 0) + 1);
        client.pipe(upstream).pipe(client);
      });
      upstream.on('error', () => {
        if (!upstream.readyState || upstream.connecting) tryBackend(attempt + 1);
        else client.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    tryBackend(0);
  });
  return new Promise<{ connections: Map<number, number>; close(): Promise<void> }>((resolve) => {
    server.listen(port, '127.0.0.1', () =>
      resolve({
        connections,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            for (const s of sockets) s.destroy(); // keep-alive connections would hold close() open
          }),
      }),
    );
  });
}

let world: FaultWorld;
let second: RunningService | undefined;
let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;

beforeAll(async () => {
  world = await startFaultWorld();
}, 180_000);

afterAll(async () => {
  await second?.kill();
  await world?.cleanup();
  await balancer?.close();
}, 60_000);

describe('an inventory instance killed while another serves', () => {
  it('keeps holding on the survivor, never oversells, and one idempotency key gives one hold', async () => {
    const secondPort = await freePort();
    second = await startService('inventory', world.system.env, { port: secondPort, readyTimeoutMs: 60_000 });
    const balancerPort = await freePort();
    balancer = await startBalancer(balancerPort, [world.system.ports.inventory, secondPort]);
    await world.system.services.get('gateway')!.stop();
    await world.system.start('gateway', { INVENTORY_URL: `http://127.0.0.1:${balancerPort}` });

    const allocation = 60;
    const partner = await world.newPartner({ ota: { 107: allocation } });
    const holds = new Map<string, string>(); // idempotency key → reservation id
    const outcomes: Record<string, number> = {};
    let killed = false;
    let successesBeforeKill = 0;
    const killSecond = async () => {
      killed = true;
      successesBeforeKill = holds.size;
      await second!.kill();
    };
    // Eight partners' clients: each hold with a fresh key, retried with the same key on 503 or a
    // broken connection until it gets a definite answer; they stop when the pool is exhausted.
    // Inventory's own routes (the availability view) through the balancer: one per client, concurrently,
    // so the gateway opens several connections and the balancer spreads them over both instances.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const view = await call('GET', `${world.system.gateway}/api/ota/inventory`, {
          token: partner.api_key,
        });
        expect(view.status, view.text).toBe(200);
      }),
    );
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const key = `hold-${randomBytes(6).toString('hex')}`;
          let definite: { status: number; body: { reservation_id?: string; code?: string } } | undefined;
          for (let attempt = 0; attempt < 100 && !definite; attempt++) {
            try {
              const res = await reserve(world.system, partner, 107, 1, {
                idempotencyKey: key,
                timeoutMs: 15_000,
              });
              outcomes[res.status] = (outcomes[res.status] ?? 0) + 1;
              if (res.status === 201 || res.status === 409) definite = res;
              else expect(res.status, res.text).toBe(503);
            } catch {
              outcomes.network = (outcomes.network ?? 0) + 1;
            }
            if (!definite) await new Promise((r) => setTimeout(r, 100));
          }
          expect(definite, `key ${key} never got a definite answer`).toBeDefined();
          if (definite!.status === 409) {
            expect(definite!.body.code).toBe('INSUFFICIENT_INVENTORY');
            return;
          }
          expect(holds.has(key)).toBe(false);
          holds.set(key, definite!.body.reservation_id!);
          if (!killed && holds.size >= 15) await killSecond();
        }
      }),
    );
    expect(killed).toBe(true);
    // Both instances served HTTP through the balancer before the kill, and holds went on after it.
    expect(balancer.connections.get(secondPort)).toBeGreaterThan(0);
    expect(balancer.connections.get(world.system.ports.inventory)).toBeGreaterThan(0);
    expect(holds.size - successesBeforeKill).toBeGreaterThan(0);
    // Exactly the allocation was held: one reservation per key, no oversell, no hold lost.
    expect(holds.size).toBe(allocation);
    expect(new Set(holds.values()).size).toBe(allocation);
    const { rows } = await world.db.query<{
      allocated: number;
      held: number;
      sold: number;
      reservations: number;
    }>(
      `SELECT p.allocated, p.held, p.sold,
              (SELECT count(*)::int FROM inventory.reservations r WHERE r.pool_id = p.id) AS reservations
         FROM inventory.pools p WHERE p.partner_id = $1 AND p.channel = 'ota' AND p.product_id = 107`,
      [partner.partner_id],
    );
    expect(rows[0]).toEqual({ allocated: allocation, held: allocation, sold: 0, reservations: allocation });

    // NATS commands now reach only the survivor: a payment still confirms.
    const first = [...holds.values()][0]!;
    const paid = await pay(
      world.system,
      { reservation_id: first, total: await reservationTotal(first) },
      `pay-${randomBytes(4).toString('hex')}`,
    );
    expect(expectStatus(paid, 200, 'pay after the kill').reservation_status).toBe('CONFIRMED');

    const results = await waitForInvariants(world.db, { timeoutMs: 30_000 });
    expect(describeViolations(results)).toBe('');
  }, 180_000);
});

async function reservationTotal(reservationId: string) {
  const { rows } = await world.db.query<{ amount: number; currency: string }>(
    'SELECT total_amount AS amount, currency FROM inventory.reservations WHERE id = $1',
    [reservationId],
  );
  return rows[0]!;
}
