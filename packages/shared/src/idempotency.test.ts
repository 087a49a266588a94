// The recorded replies against real PostgreSQL: concurrent duplicates give exactly one effect (with a
// control, written here, that shows the duplicates' race without the claim), reused keys, refusals that
// leave the key free, superseded replies and the purge.
import { barrier, createTestContext, type TestContext } from '@cruise/testkit';
import { pgSchema } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool, type Pool, type PoolClient, withTransaction } from './db.ts';
import { refuse } from './errors.ts';
import {
  claimReplies,
  idempotencyTable,
  purgeReplies,
  type ReplyKey,
  recordedReply,
  recordReplies,
  releaseClaims,
  replayStore,
  stableJson,
} from './idempotency.ts';

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

describe('several keys claimed in one transaction (claimReplies)', () => {
  const keyOf = (key: string, request: unknown = { a: 1 }): ReplyKey => ({
    scope: 'test',
    key,
    request,
    reusedDetail: 'reused',
  });

  /**
   * A group: claims `keys`, does the effect for each claimed key whose request is not `{ refuse: true }`
   * and records it, releases the refused ones' claims; `hold` runs before the commit.
   */
  const group = (keys: ReplyKey[], hold: () => Promise<void> = async () => {}) =>
    withTransaction(pool, async (client) => {
      const claims = await claimReplies<{ id: number }>(client, kept, keys);
      const done: { scope: string; key: string; status: number; body: { id: number } }[] = [];
      const refused: ReplyKey[] = [];
      for (const [i, claim] of claims.entries()) {
        const key = keys[i]!;
        if (!claim.claimed) continue;
        if (stableJson(key.request) === stableJson({ refuse: true })) refused.push(key);
        else done.push({ scope: key.scope, key: key.key, ...(await effect(client, key.key)) });
      }
      await recordReplies(client, kept, done);
      await releaseClaims(client, kept, refused);
      await hold();
      return claims;
    });

  it('replays recorded keys, refuses a reused one, claims the new ones; a repeat replays them all', async () => {
    await once('g-old', { a: 1 }, (client) => effect(client, 'g-old'));
    const first = await group([keyOf('g-new'), keyOf('g-old'), keyOf('g-old-2', { b: 2 })]);
    await once('g-old-2', { a: 1 }, (client) => effect(client, 'g-old-2')).catch(() => {});
    expect(first[0]).toEqual({ claimed: true });
    expect(first[1]).toMatchObject({ claimed: false, answer: { ok: true, status: 201, replayed: true } });
    expect(first[2]).toEqual({ claimed: true });
    const again = await group([keyOf('g-new'), keyOf('g-old-2', { a: 1 })]);
    expect(again[0]).toMatchObject({ claimed: false, answer: { ok: true, replayed: true } });
    expect(again[1]).toMatchObject({ claimed: false, answer: { ok: false, code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(await effects('g-new')).toBe(1);
    expect(await effects('g-old-2')).toBe(1);
  });

  /** A group that holds its transaction open, once it has claimed, until `n` others wait on its keys. */
  function heldGroup(keys: ReplyKey[], n: number) {
    let claimed!: () => void;
    const hasClaimed = new Promise<void>((resolve) => {
      claimed = resolve;
    });
    const result = group(keys, async () => {
      claimed();
      await waiters(n);
    });
    return { hasClaimed, result };
  }

  it('a duplicate of a key claimed by a group in flight waits, then replays its reply', async () => {
    const first = heldGroup([keyOf('g-a'), keyOf('g-b')], 2);
    await first.hasClaimed;
    const [single, other] = await Promise.all([
      once('g-b', { a: 1 }, (client) => effect(client, 'g-b')),
      group([keyOf('g-a')]),
      first.result,
    ]);
    expect(await effects('g-a')).toBe(1);
    expect(await effects('g-b')).toBe(1);
    expect(single).toMatchObject({ ok: true, replayed: true });
    expect(other[0]).toMatchObject({ claimed: false, answer: { ok: true, replayed: true } });
  });

  it('a refused key is not recorded: the duplicate waiting on it claims it and does the work', async () => {
    const first = heldGroup([keyOf('g-refused', { refuse: true })], 1);
    await first.hasClaimed;
    const [claims, duplicate] = await Promise.all([
      first.result,
      once('g-refused', { refuse: true }, (client) => effect(client, 'g-refused')),
    ]);
    expect(claims[0]).toEqual({ claimed: true });
    expect(duplicate).toMatchObject({ ok: true, replayed: false });
    expect(await effects('g-refused')).toBe(1);
  });

  it('two groups claiming the same keys in opposite orders queue instead of deadlocking', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => keyOf(`g-order-${i}`));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, n) => group(n % 2 === 0 ? keys : [...keys].reverse())),
    );
    for (let i = 0; i < 20; i++) expect(await effects(`g-order-${i}`)).toBe(1);
    const claimed = results.flat().filter((c) => c.claimed);
    expect(claimed).toHaveLength(20);
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
