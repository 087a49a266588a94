// Two inventory services as real processes (server.ts, as deployed) sharing one database: 40 concurrent
// holds (issuance's createReservation command, which the queue group spreads over both) against 10
// available give exactly 10 reservations; both stop cleanly on SIGTERM.
import { connectNats, createPool, type NatsConnection, type Pool } from '@cruise/shared';
import {
  createTestContext,
  freePort,
  type RunningService,
  startService,
  type TestContext,
} from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, setAllocation } from '../src/index.ts';
import { createReservation, nextDate } from './harness.ts';

let ctx: TestContext;
let pool: Pool;
let nc: NatsConnection;
const services: RunningService[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  pool = createPool(ctx.config, 'inventory-test');
  nc = await connectNats(ctx.config, 'inventory-test');
  for (let i = 0; i < 2; i++) {
    services.push(
      await startService('inventory', ctx.env, { port: await freePort(), readyTimeoutMs: 60_000 }),
    );
  }
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.kill()));
  await pool?.end();
  await nc?.close();
  await ctx?.cleanup();
});

describe('two inventory processes', () => {
  it('never hold more than is available between them', async () => {
    const partnerId = crypto.randomUUID();
    const allocated = await setAllocation(pool, { productId: 106, channel: 'ota', partnerId, allocated: 10 });
    expect(allocated.ok).toBe(true);
    const visit_date = nextDate(ctx.config, 'weekend');
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        createReservation(nc, ctx.config, partnerId, {
          product_id: 106,
          visit_date,
          items: [{ customer_type: 'adult', quantity: 1 }],
        }).then((r) => ({ status: r.statusCode, body: r.json() as { code?: string } })),
      ),
    );
    const won = responses.filter((r) => r.status === 201);
    expect(won).toHaveLength(10);
    for (const r of responses.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('INSUFFICIENT_INVENTORY');
    }
    const { rows } = await pool.query(
      `SELECT allocated, held, sold FROM inventory.pools WHERE partner_id = $1 AND channel = 'ota'`,
      [partnerId],
    );
    expect(rows[0]).toEqual({ allocated: 10, held: 10, sold: 0 });
    expect((await checkLedger(pool)).ok).toBe(true);
  });

  it('answers readiness and stops cleanly on SIGTERM', async () => {
    for (const s of services) {
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: unknown }).checks).toMatchObject({
        database: { status: 'ok' },
        redis: { status: 'ok' },
        nats: { status: 'ok' },
      });
    }
    for (const s of services) {
      await s.stop();
      expect(s.process.exitCode).toBe(0);
    }
  });
});
