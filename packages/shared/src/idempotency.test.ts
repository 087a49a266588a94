// The recorded replies against real PostgreSQL: concurrent duplicates give exactly one effect (with a
// control, written here, that shows the duplicates' race without the claim), reused keys, refusals that
// leave the key free, superseded replies and the purge.
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { pgSchema } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool, type Pool, type PoolClient, withTransaction } from './db.ts';
import { refuse } from './errors.ts';
import { idempotencyTable, purgeReplies, recordedReply, replayStore, stableJson } from './idempotency.ts';

let ctx: TestContext;
let pool: Pool;
// Any service's table will do: every one is made from the same definition.
const table = idempotencyTable(pgSchema('gateway'));
const kept = replayStore(table, { keepHours: null });
const expiring = replayStore(table, { keepHours: 48 });

beforeAll(async () => {
  ctx = await createTestContext();
  pool = createPool({ DATABASE_URL: ctx.config.DATABASE_URL, DATABASE_POOL_SIZE: 20 });
  await pool.query('CREATE TABLE replay_effects (id serial PRIMARY KEY, key text NOT NULL)');
});
afterAll(async () => {
  await pool.end();
  await ctx.cleanup();
});
beforeEach(async () => {
  await pool.query('TRUNCATE replay_effects, gateway.idempotency_keys');
});

const effects = async (key: string) =>
  Number((await pool.query('SELECT count(*) AS n FROM replay_effects WHERE key = $1', [key])).rows[0].n);

/** The effect: one row, answered with its id. */
async function effect(client: PoolClient, key: string) {
  const { rows } = await client.query('INSERT INTO replay_effects (key) VALUES ($1) RETURNING id', [key]);
  return { status: 201, body: { id: rows[0].id as number } };
}

/** Resolves once `n` other sessions of this database wait on a lock (the duplicates queue on the claim). */
async function waiters(n: number): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
    );
    if (Number(rows[0].n) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const once = (key: string, request: unknown, work: (client: PoolClient) => ReturnType<typeof effect>) =>
  withTransaction(pool, (client) =>
    recordedReply(client, kept, { scope: 'test', key, request, reusedDetail: 'reused' }, () => work(client)),
  );

describe('concurrent duplicates', () => {
  it('eight duplicates at once: one effect, one first reply, seven replays of it', async () => {
    let first = true;
    const replies = await Promise.all(
      Array.from({ length: 8 }, () =>
        once('k-concurrent', { a: 1 }, async (client) => {
          // The first to claim holds its transaction open until the seven others wait on its claim.
          if (first) {
            first = false;
            await waiters(7);
          }
          return effect(client, 'k-concurrent');
        }),
      ),
    );
    expect(await effects('k-concurrent')).toBe(1);
    const ok = replies.flatMap((r) => (r.ok ? [r] : []));
    expect(ok).toHaveLength(8);
    expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(ok.map((r) => stableJson(r.body))).size).toBe(1);
    expect(new Set(ok.map((r) => r.status))).toEqual(new Set([201]));
  });

  it('control: read-then-write without the claim lets every duplicate do the work', async () => {
    // The unguarded variant: look for a recorded reply, do the work, record it; the barrier lines the
    // duplicates up between the look and the write, the window a real race opens.
    const arrive = barrier(8);
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withTransaction(pool, async (client) => {
          const { rows } = await client.query(
            `SELECT body FROM gateway.idempotency_keys WHERE scope = 'test' AND key = 'k-naive'`,
          );
          await arrive();
          if (rows.length > 0) return rows[0].body;
          const reply = await effect(client, 'k-naive');
          await client.query(
            `INSERT INTO gateway.idempotency_keys (scope, key, request_hash, status_code, body)
             VALUES ('test', 'k-naive', 'h', $1, $2) ON CONFLICT DO NOTHING`,
            [reply.status, JSON.stringify(reply.body)],
          );
          return reply.body;
        }),
      ),
    );
    expect(await effects('k-naive')).toBeGreaterThan(1);
  });

  it('a first claimant that refuses leaves the key to the duplicate waiting on it', async () => {
    let first = true;
    const replies = await Promise.all(
      Array.from({ length: 2 }, () =>
        withTransaction(pool, (client) =>
          recordedReply(
            client,
            kept,
            { scope: 'test', key: 'k-refused', request: {}, reusedDetail: 'r' },
            async () => {
              if (first) {
                first = false;
                await waiters(1);
                return refuse('INSUFFICIENT_INVENTORY', 'none left');
              }
              return effect(client, 'k-refused');
            },
          ),
        ),
      ),
    );
    expect(replies.map((r) => (r.ok ? `ok replayed=${r.replayed}` : r.code)).sort()).toEqual([
      'INSUFFICIENT_INVENTORY',
      'ok replayed=false',
    ]);
    expect(await effects('k-refused')).toBe(1);
  });
});

describe('one key, one request', () => {
  it('the same key with another request is IDEMPOTENCY_KEY_REUSED and does nothing', async () => {
    const first = await once('k-reuse', { amount: 1, currency: 'CNY' }, (c) => effect(c, 'k-reuse'));
    // Key order does not matter; a different value does.
    const same = await once('k-reuse', { currency: 'CNY', amount: 1 }, (c) => effect(c, 'k-reuse'));
    const other = await once('k-reuse', { amount: 2, currency: 'CNY' }, (c) => effect(c, 'k-reuse'));
    expect(first).toMatchObject({ ok: true, replayed: false });
    expect(same).toEqual({ ...first, replayed: true });
    expect(other).toEqual({ ok: false, code: 'IDEMPOTENCY_KEY_REUSED', detail: 'reused' });
    expect(await effects('k-reuse')).toBe(1);
  });

  it('the operation is part of the request: one key for two operations is reused', async () => {
    const run = (operation: string) =>
      withTransaction(pool, (client) =>
        recordedReply(
          client,
          expiring,
          { scope: 'p', key: 'k-op', operation, request: {}, reusedDetail: 'r' },
          () => effect(client, 'k-op'),
        ),
      );
    expect((await run('create-a')).ok).toBe(true);
    expect(await run('create-b')).toMatchObject({ ok: false, code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('a refusal is not recorded: a retry is decided afresh', async () => {
    const refused = await withTransaction(pool, (client) =>
      recordedReply(
        client,
        kept,
        { scope: 'test', key: 'k-retry', request: {}, reusedDetail: 'r' },
        async () => refuse('NOT_FOUND', 'not yet'),
      ),
    );
    expect(refused).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect((await pool.query(`SELECT 1 FROM gateway.idempotency_keys WHERE key = 'k-retry'`)).rowCount).toBe(
      0,
    );
    expect(await once('k-retry', {}, (c) => effect(c, 'k-retry'))).toMatchObject({
      ok: true,
      replayed: false,
    });
  });

  it('a reply the caller declines to replay is replaced by the new run', async () => {
    const run = (final: boolean) =>
      withTransaction(pool, (client) =>
        recordedReply<{ final: boolean }>(
          client,
          kept,
          { scope: 'test', key: 'k-final', request: {}, reusedDetail: 'r' },
          async () => ({ status: 200, body: { final } }),
          { replay: (recorded) => recorded.body.final },
        ),
      );
    expect(await run(false)).toMatchObject({ ok: true, replayed: false, body: { final: false } });
    expect(await run(true)).toMatchObject({ ok: true, replayed: false, body: { final: true } });
    expect(await run(false)).toMatchObject({ ok: true, replayed: true, body: { final: true } });
  });
});

it('the purge deletes replies past their time and keeps those kept for good', async () => {
  for (const [store, key] of [
    [expiring, 'k-old'],
    [expiring, 'k-new'],
    [kept, 'k-kept'],
  ] as const) {
    await withTransaction(pool, (client) =>
      recordedReply(client, store, { scope: 'test', key, request: {}, reusedDetail: 'r' }, () =>
        effect(client, key),
      ),
    );
  }
  await pool.query(
    `UPDATE gateway.idempotency_keys SET created_at = created_at - interval '49 hours',
       expires_at = expires_at - interval '49 hours' WHERE key IN ('k-old', 'k-kept')`,
  );
  expect(await purgeReplies(pool, table)).toBe(1);
  const left = await pool.query('SELECT key FROM gateway.idempotency_keys ORDER BY key');
  expect(left.rows.map((r) => r.key)).toEqual(['k-kept', 'k-new']);
});
