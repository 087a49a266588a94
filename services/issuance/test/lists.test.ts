// Issuance's lists through the real app and PostgreSQL. Tickets: a cursor walk sees every ticket once,
// newest first, while new tickets are written between its pages (an offset walk, the control, repeats
// rows); cursors are checked and never cross partners; the page and its total come from one snapshot
// while tickets change status underneath. Batches, resellers, the console's batches and pending
// releases: the cursor walk gives the rows of one big page, in its order.
import { randomUUID } from 'node:crypto';
import { createTestContext, type TestContext, walkByCursor } from '@cruise/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBatch } from '../src/domain/batches.ts';
import {
  adminHeaders,
  bulkGenerate,
  newPartner,
  newReseller,
  partnerHeaders,
  type System,
  startSystem,
} from './harness.ts';

let ctx: TestContext;
let sys: System;
let a: string;
let b: string;

interface ListedTicket {
  ticket_code: string;
  created_at: string;
  batch_id: string | null;
  status: string;
}
interface TicketPage {
  data: ListedTicket[];
  page: number;
  page_size: number;
  total: number;
  has_more: boolean;
  next_cursor: string | null;
  total_is_lower_bound: boolean;
}

beforeAll(async () => {
  ctx = await createTestContext({ RUN_WORKERS: 'false' });
  sys = await startSystem(ctx.config);
  a = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 500 }]);
  b = await newPartner(sys, [{ productId: 106, channel: 'reseller', allocated: 50 }]);
});
afterAll(async () => {
  await sys?.close();
  await ctx?.cleanup();
});

const list = async (partner: string, qs: string) => {
  const res = await sys.issuance.inject({
    url: `/api/ota/tickets?${qs}`,
    headers: partnerHeaders(ctx.config, partner),
  });
  return res;
};
const page = async (partner: string, qs: string): Promise<TicketPage> => {
  const res = await list(partner, qs);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

/** A batch accepted through the API; its tickets are written by `generateBatch` (no worker here). */
async function queueBatch(partner: string, quantity: number): Promise<string> {
  const resellerId = await newReseller(sys, ctx.config, partner);
  return bulkGenerate(sys, partnerHeaders(ctx.config, partner), {
    product_id: 106,
    quantity,
    reseller_id: resellerId,
  });
}

/** Every ticket code of the partner, straight from the table. */
async function codesOf(partner: string): Promise<Set<string>> {
  const { rows } = await sys.deps.pool.query<{ ticket_code: string }>(
    'SELECT ticket_code FROM issuance.tickets WHERE partner_id = $1',
    [partner],
  );
  return new Set(rows.map((r) => r.ticket_code));
}

let firstBatch: string;

describe('cursor walks', () => {
  it('visit every ticket exactly once, newest first, while tickets are written between the pages', async () => {
    // Chunks of 7 share one created_at each; pages of 5 end inside those ties.
    firstBatch = await queueBatch(a, 60);
    expect(await generateBatch(sys.deps.pool, firstBatch, { chunkSize: 7 })).toBe('completed');
    const before = await codesOf(a);
    expect(before.size).toBe(60);

    const seen: ListedTicket[] = [];
    let current = await page(a, 'page_size=5');
    expect(current).toMatchObject({ page: 1, total: 60, has_more: true });
    seen.push(...current.data);
    const walkOn = async () => {
      if (!current.next_cursor) return;
      current = await page(a, `page_size=5&cursor=${current.next_cursor}`);
      seen.push(...current.data);
    };
    // One page after every chunk another batch writes: 10 chunks of 4 newer tickets.
    const newer = await queueBatch(a, 40);
    expect(await generateBatch(sys.deps.pool, newer, { chunkSize: 4, onChunk: walkOn })).toBe('completed');
    while (current.next_cursor) await walkOn();

    const codes = seen.map((t) => t.ticket_code);
    expect(new Set(codes).size).toBe(codes.length); // no row twice
    expect(new Set(codes)).toEqual(before); // every row that existed, none of the newer ones
    const times = seen.map((t) => t.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    // The last page says so; `page` counts the walk; totals follow the table as it grows.
    expect(current).toMatchObject({ page: 12, has_more: false, next_cursor: null, total: 100 });
  });

  it('control: the same walk by page number repeats rows once newer tickets arrive', async () => {
    const seen: string[] = [];
    let pageNo = 1;
    let current = await page(a, `page_size=5&page=${pageNo}`);
    seen.push(...current.data.map((t) => t.ticket_code));
    const newer = await queueBatch(a, 12);
    expect(
      await generateBatch(sys.deps.pool, newer, {
        chunkSize: 4,
        onChunk: async () => {
          current = await page(a, `page_size=5&page=${++pageNo}`);
          seen.push(...current.data.map((t) => t.ticket_code));
        },
      }),
    ).toBe('completed');
    expect(seen.length - new Set(seen).size).toBeGreaterThan(0);
  });

  it('within a batch: highest sequence first, every ticket once, next_cursor null at the end', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = `batch_id=${firstBatch}&page_size=8${cursor ? `&cursor=${cursor}` : ''}`;
      const current = await page(a, qs);
      seen.push(...current.data.map((t) => t.ticket_code));
      cursor = current.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(8);
    const { rows } = await sys.deps.pool.query<{ ticket_code: string }>(
      'SELECT ticket_code FROM issuance.tickets WHERE batch_id = $1 ORDER BY batch_seq DESC',
      [firstBatch],
    );
    expect(seen).toEqual(rows.map((r) => r.ticket_code));
  });
});

describe('cursor checks', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('a malformed cursor, a cursor with page, or a cursor of another order is 400 VALIDATION_FAILED', async () => {
    const next = (await page(a, 'page_size=3')).next_cursor!;
    const inBatch = (await page(a, `batch_id=${firstBatch}&page_size=3`)).next_cursor!;
    const bad = [
      'cursor=!!!',
      `cursor=${'A'.repeat(600)}`,
      'cursor=bm90IGpzb24',
      `cursor=${encode({ o: 'tickets', k: ['yesterday', '1'], p: 0 })}`,
      `cursor=${encode({ o: 'tickets', k: ['2026-11-24T00:00:00.000000Z', '1 OR 1=1'], p: 0 })}`,
      `cursor=${encode({ o: 'batches', k: ['2026-11-24T00:00:00.000000Z', randomUUID()], p: 0 })}`,
      `cursor=${next}&page=2`,
      `cursor=${inBatch}`, // a batch's sequence cursor on the unfiltered list
    ];
    for (const qs of bad) {
      const res = await list(a, `page_size=3&${qs}`);
      expect(res.statusCode, qs).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code, qs).toBe('VALIDATION_FAILED');
    }
  });

  it("another partner's cursor, or a forged one, only ever continues the caller's own tickets", async () => {
    const own = await codesOf(a);
    const theirsBatch = await queueBatch(b, 10);
    expect(await generateBatch(sys.deps.pool, theirsBatch, { chunkSize: 10 })).toBe('completed');
    const theirs = await codesOf(b);
    const bCursor = (await page(b, 'page_size=2')).next_cursor!;
    const forged = encode({ o: 'tickets', k: ['2999-01-01T00:00:00.000000Z', '9223372036854775807'], p: 0 });
    for (const cursor of [bCursor, forged]) {
      const res = await page(a, `page_size=500&cursor=${cursor}`);
      const codes = res.data.map((t) => t.ticket_code);
      expect(codes.every((c) => own.has(c))).toBe(true);
      expect(codes.some((c) => theirs.has(c))).toBe(false);
    }
    // The forged key is above every ticket: it lists all of A's, and B's list never shows A's.
    expect((await page(a, `page_size=500&cursor=${forged}`)).data).toHaveLength(own.size);
    const bAll = await page(b, `page_size=500&cursor=${forged}`);
    expect(new Set(bAll.data.map((t) => t.ticket_code))).toEqual(theirs);
  });
});

describe('page and total from one snapshot', () => {
  // The status filter matches one ticket, then none, then one… while the list is read.
  const flipSql = `UPDATE issuance.tickets SET status = CASE status WHEN 'EXPIRED' THEN 'PRE_GENERATED' ELSE 'EXPIRED' END
    WHERE ticket_code = $1`;

  it('control: page and total as two statements disagree when a ticket changes between them', async () => {
    const [code] = [...(await codesOf(b))];
    const filter = `partner_id = $1 AND status = 'EXPIRED'`;
    // What the list did before it was one statement: the page, then (another snapshot) the count.
    const pageRows = await sys.deps.pool.query(
      `SELECT ticket_code FROM issuance.tickets WHERE ${filter} ORDER BY created_at DESC LIMIT 51`,
      [b],
    );
    await sys.deps.pool.query(flipSql, [code]);
    const count = await sys.deps.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM issuance.tickets WHERE ${filter}`,
      [b],
    );
    await sys.deps.pool.query(flipSql, [code]); // back to PRE_GENERATED
    expect(count.rows[0]!.n).not.toBe(pageRows.rows.length);
  });

  it('the list never answers a total that disagrees with its page while a ticket flips', async () => {
    const [code] = [...(await codesOf(b))];
    let flipping = true;
    let flips = 0;
    const writer = (async () => {
      while (flipping) {
        await sys.deps.pool.query(flipSql, [code]);
        flips++;
      }
    })();
    const answers: TicketPage[] = [];
    try {
      for (let i = 0; i < 150; i++) answers.push(await page(b, 'status=EXPIRED'));
    } finally {
      flipping = false;
      await writer;
    }
    expect(flips).toBeGreaterThan(10);
    // Both outcomes were seen, and each answer is one moment: total 1 with its row, or 0 with none.
    expect(new Set(answers.map((r) => r.total))).toEqual(new Set([0, 1]));
    for (const r of answers) expect(r.data.length).toBe(r.total);
  });
});

describe('the other lists', () => {
  const getter = (url: string, headers: Record<string, string>) => async (query: string) => {
    const res = await sys.issuance.inject({ url: `${url}?${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { data: Record<string, unknown>[]; has_more: boolean; next_cursor: string | null };
  };

  it('batches, resellers and the console’s batches: the cursor walk is the big page, in order', async () => {
    const lists = [
      ['/api/ota/batches', partnerHeaders(ctx.config, a), 'batch_id'],
      ['/api/ota/resellers', partnerHeaders(ctx.config, a), 'reseller_id'],
      ['/api/admin/batches', adminHeaders(ctx.config), 'batch_id'],
    ] as const;
    for (const [url, headers, id] of lists) {
      const get = getter(url, headers);
      const all = (await get('page_size=500')).data.map((r) => r[id]);
      expect(all.length, url).toBeGreaterThan(2);
      const walk = await walkByCursor('page_size=2', get);
      expect(
        walk.items.map((r) => r[id]),
        url,
      ).toEqual(all);
      expect(walk.pages, url).toBe(Math.ceil(all.length / 2));
    }
    const otherPartner = getter('/api/ota/batches', partnerHeaders(ctx.config, b));
    const aCursor = (await getter('/api/ota/batches', partnerHeaders(ctx.config, a))('page_size=1'))
      .next_cursor!;
    const bBatches = new Set((await otherPartner('page_size=500')).data.map((r) => r.batch_id));
    for (const row of (await otherPartner(`cursor=${aCursor}`)).data)
      expect(bBatches.has(row.batch_id)).toBe(true);
  });

  it('pending releases, oldest first: the cursor walk is the big page, in order', async () => {
    await sys.deps.pool.query(
      `INSERT INTO issuance.pending_releases (ref, partner_id, product_id, channel, from_state, quantity, reason, created_at)
       SELECT 'list-test:' || g, $1, 106, 'reseller', 'held', 1, 'cancel', now() - (g % 3) * interval '1 minute'
       FROM generate_series(1, 7) g`,
      [a],
    );
    const get = getter('/api/admin/pending-releases', adminHeaders(ctx.config));
    const all = (await get('page_size=500')).data.map((r) => r.ref);
    expect(all.filter((ref) => String(ref).startsWith('list-test:'))).toHaveLength(7);
    const walk = await walkByCursor('page_size=3', get);
    expect(walk.items.map((r) => r.ref)).toEqual(all);
    const times = walk.items.map((r) => String(r.created_at));
    expect([...times].sort()).toEqual(times);
    await sys.deps.pool.query(`DELETE FROM issuance.pending_releases WHERE ref LIKE 'list-test:%'`);
  });
});
