// Bulk generation: a batch holds its units in the partner's reseller pool when it is requested, and
// the worker writes its PRE_GENERATED tickets in chunks. Each chunk, the batch's progress and the
// chunk's event commit together; (batch_id, batch_seq) is unique, so a chunk retried after a crash
// cannot duplicate and the next run resumes after the highest sequence written.
import { createHash } from 'node:crypto';
import {
  appendPartnerEvents,
  type Batch,
  type BatchAccepted,
  type BulkGenerateBody,
  type CommandClient,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  newTicketCodes,
  type Outcome,
  type Pool,
  type PoolClient,
  refuse,
  type SqlRow,
  type TicketSnapshot,
  withTransaction,
} from '@cruise/shared';
import type { batches, resellers } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import { recordRelease } from './pool-releases.ts';
import { rememberProduct } from './product-catalogue.ts';
import { GENERATED_CODES_MAX } from './ticket-events.ts';
import { entitlementsOf, type Queryable } from './ticket-records.ts';
import { ownActiveReseller } from './tickets.ts';

/** A UUID derived from (partner, Idempotency-Key): a retried request names the same batch, so inventory holds once. */
export function batchIdFromKey(partnerId: string, key: string): string {
  const h = createHash('sha256').update(`batch\n${partnerId}\n${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5-style (name-based)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A batch as `BATCH_COLUMNS` selects it: its columns and its reseller's name and status (left joined). */
export type BatchRow = Pick<
  SqlRow<typeof batches>,
  | 'batch_id'
  | 'partner_id'
  | 'product_id'
  | 'reseller_id'
  | 'quantity'
  | 'generated'
  | 'status'
  | 'batch_reference'
  | 'distribution'
  | 'error'
  | 'created_at'
  | 'completed_at'
  | 'expires_at'
> & {
  reseller_name: SqlRow<typeof resellers>['name'] | null;
  reseller_status: SqlRow<typeof resellers>['status'] | null;
};

const BATCH_COLUMNS = `b.batch_id, b.partner_id, b.product_id, b.reseller_id, r.name AS reseller_name,
  r.status AS reseller_status, b.quantity, b.generated, b.status, b.batch_reference, b.distribution, b.error,
  b.created_at, b.completed_at, b.expires_at`;

export function toBatch(b: BatchRow): Batch {
  return {
    batch_id: b.batch_id,
    status: b.status,
    product_id: b.product_id,
    quantity: b.quantity,
    generated: b.generated,
    reseller:
      b.reseller_name !== null
        ? { reseller_id: b.reseller_id, name: b.reseller_name, status: b.reseller_status ?? 'ACTIVE' }
        : null,
    batch_reference: b.batch_reference,
    distribution: b.distribution,
    created_at: b.created_at.toISOString(),
    completed_at: b.completed_at?.toISOString() ?? null,
    expires_at: b.expires_at.toISOString(),
    error: b.error,
  };
}

/**
 * Validates the request, records the batch and holds its units in inventory, in the caller's
 * transaction. On a refusal the caller must roll back (the batch row is already written); on success
 * it enqueues the job after commit.
 */
export async function createBatch(
  client: PoolClient,
  inventory: CommandClient,
  input: { partnerId: string; batchId: string; body: BulkGenerateBody; tentativeDays: number },
): Promise<Outcome<{ accepted: BatchAccepted }>> {
  const { partnerId, batchId, body } = input;
  const reseller = await ownActiveReseller(client, partnerId, body.reseller_id);
  if (!reseller.ok) return reseller;
  await client.query(
    `INSERT INTO ${table.batches} (batch_id, partner_id, product_id, reseller_id, quantity, batch_reference,
       distribution, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now() + make_interval(days => $8))`,
    [
      batchId,
      partnerId,
      body.product_id,
      body.reseller_id,
      body.quantity,
      body.batch_reference ?? null,
      body.distribution ? JSON.stringify(body.distribution) : null,
      input.tentativeDays,
    ],
  );
  const reply = await inventory.send('holdBatch', {
    batch_id: batchId,
    partner_id: partnerId,
    product_id: body.product_id,
    quantity: body.quantity,
  });
  // A refusal after the insert: the caller's transaction must roll back (it throws the refusal).
  if (!reply.ok) return reply;
  await rememberProduct(client, reply.product);
  return {
    ok: true,
    accepted: {
      batch_id: batchId,
      status: 'QUEUED',
      quantity: body.quantity,
      poll_url: `/api/ota/batches/${batchId}`,
    },
  };
}

/**
 * One batch. FOR SHARE: a chunk that is committing holds the batch row from its final UPDATE (which
 * stamps `completed_at`) until COMMIT; a read in that instant waits for the commit and sees the
 * result, so a read that starts after `completed_at` never answers QUEUED or RUNNING.
 */
export async function getBatch(
  client: Queryable,
  partnerId: string,
  batchId: string,
): Promise<Outcome<{ batch: Batch }>> {
  const { rows } = await client.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM ${table.batches} b LEFT JOIN ${table.resellers} r ON r.reseller_id = b.reseller_id
     WHERE b.batch_id = $1 AND b.partner_id = $2 FOR SHARE OF b`,
    [batchId, partnerId],
  );
  return rows[0] ? { ok: true, batch: toBatch(rows[0]) } : refuse('NOT_FOUND', 'No such batch');
}

/** A partner's batches, or every partner's (the console), newest first. */
export const BATCHES_NEWEST_FIRST = new Keyset('batches', [
  { sql: 'b.created_at', type: 'timestamptz' },
  { sql: 'b.batch_id', type: 'uuid' },
]);

/** A page of batches matching `where` (its parameters in `params`), with their resellers' names. */
function batchPage<T>(
  client: Queryable,
  where: string,
  params: unknown[],
  q: ListQuery,
  toItem: (row: BatchRow & KeyedRow) => T,
) {
  return BATCHES_NEWEST_FIRST.list(
    client,
    q,
    {
      from: table.batches,
      alias: 'b',
      where,
      select: BATCH_COLUMNS,
      joins: `LEFT JOIN ${table.resellers} r ON r.reseller_id = b.reseller_id`,
    },
    params,
    toItem,
  );
}

export async function listBatches(
  client: Queryable,
  partnerId: string,
  q: ListQuery,
): Promise<Outcome<{ page: ListPage<Batch> }, 'VALIDATION_FAILED'>> {
  return batchPage(client, 'b.partner_id = $1', [partnerId], q, (b) => toBatch(b));
}

export type ChunkResult = 'written' | 'completed' | 'finished-already' | 'missing';

/**
 * Writes the next chunk of a batch, in one transaction with its progress and its event. Two workers
 * on one batch take turns on an advisory lock. The batch row itself is locked only by the final
 * UPDATE, just before COMMIT: a poll (getBatch, FOR SHARE) never waits for a whole chunk, and
 * `completed_at` is the clock at that UPDATE, not the transaction's start (with now(), a single-chunk
 * batch was stamped completed while polls still read QUEUED for the chunk's whole duration).
 */
export async function generateNextChunk(
  pool: Pool,
  batchId: string,
  chunkSize: number,
): Promise<ChunkResult> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `issuance:batch:${batchId}`,
    ]);
    const { rows } = await client.query<{
      partner_id: string;
      product_id: number;
      reseller_id: string;
      quantity: number;
      status: string;
      product_name: string | null;
      functions: string[] | null;
      tx_now: Date;
    }>(
      `SELECT b.partner_id, b.product_id, b.reseller_id, b.quantity, b.status, p.name AS product_name,
         p.functions, now() AS tx_now
       FROM ${table.batches} b LEFT JOIN ${table.product_catalogue} p ON p.product_id = b.product_id
       WHERE b.batch_id = $1`,
      [batchId],
    );
    const b = rows[0];
    if (!b) return 'missing';
    if (b.status === 'COMPLETED' || b.status === 'FAILED') return 'finished-already';
    const written =
      (
        await client.query<{ max: number | null }>(
          `SELECT max(batch_seq) AS max FROM ${table.tickets} WHERE batch_id = $1`,
          [batchId],
        )
      ).rows[0]?.max ?? 0;
    const n = Math.min(chunkSize, b.quantity - written);
    if (n > 0) {
      const codes = newTicketCodes(n);
      const entitlements = entitlementsOf(b.functions ?? []);
      // What every ticket of the chunk shares, as its tickets.generated event carries it once: each
      // code stands for `{ ticket_code, ...template }`, the snapshot a tickets.issued would carry.
      // created_at defaults to now(), the transaction's start: the same instant as tx_now.
      const template: Omit<TicketSnapshot, 'ticket_code'> = {
        partner_id: b.partner_id,
        channel: 'reseller',
        product_id: b.product_id,
        product_name: b.product_name ?? `Product ${b.product_id}`,
        status: 'PRE_GENERATED',
        entitlements,
        revision: 0,
        created_at: b.tx_now.toISOString(),
      };
      const inserted = await insertChunk(client, {
        batchId,
        resellerId: b.reseller_id,
        firstSeq: written + 1,
        codes,
        template,
      });
      if (inserted !== n)
        throw new Error(`chunk of batch ${batchId} wrote ${inserted} tickets, expected ${n}`);
    }
    const done = written + n >= b.quantity;
    if (done) {
      const { rows: c } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table.tickets} WHERE batch_id = $1`,
        [batchId],
      );
      if (c[0]!.n !== b.quantity)
        throw new Error(`batch ${batchId} has ${c[0]!.n} tickets, expected ${b.quantity}`);
    }
    // Lock the row first, then stamp: an UPDATE evaluates clock_timestamp() before it waits for the row,
    // and polls (FOR SHARE) starting in that wait would read RUNNING after completed_at. Once this lock
    // is held, every poll that starts waits for the COMMIT and reads what it committed.
    await client.query(`SELECT 1 FROM ${table.batches} WHERE batch_id = $1 FOR NO KEY UPDATE`, [batchId]);
    const updated = await client.query(
      `UPDATE ${table.batches} SET generated = $2, status = $3, started_at = COALESCE(started_at, now()),
         completed_at = CASE WHEN $3 = 'COMPLETED' THEN clock_timestamp() END
       WHERE batch_id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [batchId, written + n, done ? 'COMPLETED' : 'RUNNING'],
    );
    // Marked FAILED while this chunk was written (markBatchFailed released the unwritten units):
    // the chunk must not commit.
    if (updated.rowCount !== 1) throw new Error(`batch ${batchId} was finished while a chunk was written`);
    if (done) await appendBatchEvent(client, 'batch.completed', b.partner_id, batchId);
    return done ? 'completed' : 'written';
  });
}

interface ChunkRows {
  batchId: string;
  resellerId: string;
  /** batch_seq of the first code. */
  firstSeq: number;
  codes: string[];
  template: Omit<TicketSnapshot, 'ticket_code'>;
}

/**
 * One statement writes the chunk and its event(s). A plain INSERT (no ON CONFLICT): under the advisory
 * lock nothing else writes this batch, so a collision on (batch_id, batch_seq) cannot happen short of
 * a bug, and if it did the unique violation rolls the chunk back. The envelope (the exact shape
 * appendEvent writes; batches.test.ts parses it against the catalog) is built by PostgreSQL from the
 * codes already sent: no per-ticket JSON on either side. Returns how many tickets it wrote.
 * COPY FROM STDIN was measured in its place (bench/batch-chunks.ts at 84451e7) and was no faster:
 * what it saves in heap inserts it spends parsing every row's uuids and jsonb.
 */
async function insertChunk(client: PoolClient, c: ChunkRows): Promise<number> {
  const t = c.template;
  const { rowCount } = await client.query(
    `WITH events AS (
       INSERT INTO ${table.outbox} (subject, envelope)
       SELECT 'events.issuance.tickets.generated', jsonb_build_object('id', gen_random_uuid()::text,
         'type', 'tickets.generated', 'occurred_at', $9::text,
         'data', jsonb_build_object('batch_id', $3::text, 'ticket', $10::jsonb,
           'ticket_codes', to_jsonb(($7::text[])[g : g + $8::int - 1])))
       FROM generate_series(1, cardinality($7::text[]), $8::int) AS g ORDER BY g
     )
     INSERT INTO ${table.tickets} (ticket_code, partner_id, channel, product_id, status, batch_id, batch_seq,
       reseller_id, entitlements)
     SELECT u.code, $1::uuid, 'reseller', $2::int, 'PRE_GENERATED', $3::uuid, $4::int - 1 + u.ord, $5::uuid,
       $6::jsonb
     FROM unnest($7::text[]) WITH ORDINALITY AS u(code, ord)`,
    [
      t.partner_id,
      t.product_id,
      c.batchId,
      c.firstSeq,
      c.resellerId,
      JSON.stringify(t.entitlements),
      c.codes,
      GENERATED_CODES_MAX,
      t.created_at,
      JSON.stringify(t),
    ],
  );
  return rowCount ?? 0;
}

/** The partner event of a finished batch, carrying the batch as GET shows it (revision: the outbox id). */
async function appendBatchEvent(
  client: PoolClient,
  type: 'batch.completed' | 'batch.failed',
  partnerId: string,
  batchId: string,
): Promise<void> {
  const read = await getBatch(client, partnerId, batchId);
  if (!read.ok) throw new Error(`batch ${batchId} vanished inside its own transaction`);
  await appendPartnerEvents(client, 'issuance', [{ type, partnerId, data: { batch: read.batch } }]);
}

/** Runs a batch to completion from wherever it stands. `onChunk` lets a test stop it part-way. */
export async function generateBatch(
  pool: Pool,
  batchId: string,
  opts: { chunkSize: number; onChunk?: (chunk: number) => Promise<void> | void },
): Promise<ChunkResult> {
  for (let chunk = 1; ; chunk++) {
    const result = await generateNextChunk(pool, batchId, opts.chunkSize);
    if (result !== 'written') return result;
    await opts.onChunk?.(chunk);
  }
}

/**
 * A batch the worker gave up on: kept with its error; the tickets written so far stay PRE_GENERATED
 * (and expire like any other), the units never written go back from held to the reseller pool.
 */
export async function markBatchFailed(pool: Pool, batchId: string, error: string): Promise<string | null> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      partner_id: string;
      product_id: number;
      quantity: number;
      generated: number;
    }>(
      `UPDATE ${table.batches} SET status = 'FAILED', error = $2
       WHERE batch_id = $1 AND status IN ('QUEUED', 'RUNNING')
       RETURNING partner_id, product_id, quantity, generated`,
      [batchId, error.slice(0, 1000)],
    );
    const b = rows[0];
    if (b) await appendBatchEvent(client, 'batch.failed', b.partner_id, batchId);
    if (!b || b.quantity === b.generated) return null;
    const ref = `batch-failed:${batchId}`;
    await recordRelease(client, {
      ref,
      partnerId: b.partner_id,
      productId: b.product_id,
      channel: 'reseller',
      from: 'held',
      quantity: b.quantity - b.generated,
      reason: 'cancel',
    });
    return ref;
  });
}

/** Batches that should be running: their job may have been lost between commit and enqueue. */
export async function unfinishedBatchIds(pool: Pool, olderThanSeconds: number): Promise<string[]> {
  const { rows } = await pool.query<{ batch_id: string }>(
    `SELECT batch_id FROM ${table.batches} WHERE status IN ('QUEUED', 'RUNNING')
       AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT 1000`,
    [olderThanSeconds],
  );
  return rows.map((r) => r.batch_id);
}

/** Batches of every partner (or one), for the operator console; `IN_PROGRESS` = QUEUED or RUNNING. */
export async function listAllBatches(
  client: Queryable,
  filter: { status?: Batch['status'] | 'IN_PROGRESS' | undefined; partnerId?: string | undefined },
  q: ListQuery,
): Promise<Outcome<{ page: ListPage<Batch & { partner_id: string }> }, 'VALIDATION_FAILED'>> {
  const statuses =
    filter.status === undefined
      ? null
      : filter.status === 'IN_PROGRESS'
        ? ['QUEUED', 'RUNNING']
        : [filter.status];
  const where = `($1::text[] IS NULL OR b.status = ANY($1)) AND ($2::uuid IS NULL OR b.partner_id = $2)`;
  return batchPage(client, where, [statuses, filter.partnerId ?? null], q, (b) => ({
    ...toBatch(b),
    partner_id: b.partner_id,
  }));
}
