// The outbox relay against real PostgreSQL and NATS JetStream: a row committed while a relay pass is
// running is published right after that pass, not left to the relay's interval; rows kicked within the
// gap between passes go out in one pass.
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext } from '@cruise/testkit';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from './db.ts';
import { createLogger } from './logger.ts';
import { subject } from './messages.ts';
import { ensureEventStream } from './nats.ts';
import { type OutboxRelay, startOutboxRelay } from './outbox.ts';

let ctx: TestContext;
let pool: Pool;
let nc: NatsConnection;
// Any service's outbox will do: every one is made from the same definition.
const schema = 'inventory';
const probeSubject = 'events.inventory.relay-probe';
// Taken by the test to hold a relay pass between its publish and its UPDATE (see the trigger below).
const HOLD_LOCK = 861_001;

beforeAll(async () => {
  ctx = await createTestContext();
  pool = createPool({ DATABASE_URL: ctx.config.DATABASE_URL, DATABASE_POOL_SIZE: 5 });
  nc = await connect({ servers: ctx.config.NATS_URL });
  await ensureEventStream(nc, ctx.config.NATS_PREFIX);
  // Marking rows published waits while the test holds the advisory lock: a pass can be held open.
  await pool.query(`
    CREATE FUNCTION ${schema}.hold_relay() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_xact_lock_shared(${HOLD_LOCK}); RETURN NEW; END $$;
    CREATE TRIGGER hold_relay BEFORE UPDATE ON ${schema}.outbox FOR EACH ROW EXECUTE FUNCTION ${schema}.hold_relay();
  `);
});
afterAll(async () => {
  await nc?.drain();
  await pool?.end();
  await ctx?.cleanup();
});

async function append(): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO ${schema}.outbox (subject, envelope) VALUES ($1, $2)`, [
    probeSubject,
    { id, type: 'relay-probe', occurred_at: new Date().toISOString(), data: {} },
  ]);
  return id;
}

/** A relay on the probe's outbox whose interval is far beyond the tests' waits: only a kick starts a pass. */
function startRelay(extra: { minGapMs?: number; onPass?: (published: number) => void } = {}): OutboxRelay {
  return startOutboxRelay({
    pool,
    nc,
    prefix: ctx.config.NATS_PREFIX,
    schema,
    log: createLogger({ LOG_LEVEL: 'silent' }, 'test'),
    intervalMs: 600_000,
    ...extra,
  });
}

async function unpublished(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${schema}.outbox WHERE published_at IS NULL`,
  );
  return rows[0]!.n;
}

async function waitFor(what: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('outbox relay', () => {
  it('publishes a row committed while a pass runs right after that pass, not at the next interval', async () => {
    const received: string[] = [];
    const sub = nc.subscribe(subject(ctx.config.NATS_PREFIX, probeSubject));
    void (async () => {
      for await (const m of sub) received.push((m.json() as { id: string }).id);
    })();
    const relay = startRelay();
    const holder = await pool.connect();
    try {
      // The relay's first pass (at start) publishes whatever the database was seeded with.
      expect(await waitFor(async () => (await unpublished()) === 0, 5_000)).toBe(true);
      await holder.query('SELECT pg_advisory_lock($1)', [HOLD_LOCK]);
      const first = await append();
      relay.kick();
      // The pass published the first row and now waits to mark it: it is running.
      expect(await waitFor(async () => received.includes(first), 5_000)).toBe(true);
      const second = await append();
      relay.kick();
      await holder.query('SELECT pg_advisory_unlock($1)', [HOLD_LOCK]);
      // The second row was committed after the running pass read its rows; the kick that announced it
      // came while the pass ran. It goes out with the next pass, 10 ms after (the interval is 10 minutes).
      expect(await waitFor(async () => received.includes(second), 5_000)).toBe(true);
      expect(await waitFor(async () => (await unpublished()) === 0, 5_000)).toBe(true);
    } finally {
      holder.release();
      await relay.stop();
      sub.unsubscribe();
    }
  });

  it('publishes the rows kicked within the gap after a pass in one pass', { timeout: 30_000 }, async () => {
    const passes: number[] = [];
    const received: string[] = [];
    const sub = nc.subscribe(subject(ctx.config.NATS_PREFIX, probeSubject));
    void (async () => {
      for await (const m of sub) received.push((m.json() as { id: string }).id);
    })();
    // The outbox is drained (the test before stopped its relay only then): this relay publishes only
    // this test's rows, and the passes it reports are theirs.
    expect(await waitFor(async () => (await unpublished()) === 0, 5_000)).toBe(true);
    // A gap long enough that five appends (a few ms each) all land inside it, whatever the machine's load.
    const relay = startRelay({ minGapMs: 1_500, onPass: (n) => passes.push(n) });
    try {
      // A first row, alone: its pass opens the gap.
      const opening = await append();
      relay.kick();
      expect(await waitFor(async () => received.includes(opening), 5_000)).toBe(true);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await append());
        relay.kick();
      }
      // A pass reports its size once committed, after its messages were sent: wait for the report.
      const reported = () => passes.reduce((a, b) => a + b, 0);
      expect(await waitFor(async () => reported() === 6, 10_000)).toBe(true);
      // The five went out together, in order, in the one pass after the gap.
      expect(passes).toEqual([1, 5]);
      expect(received.slice(-5)).toEqual(ids);
    } finally {
      await relay.stop();
      sub.unsubscribe();
    }
  });
});
