// The audit trail: rows are buffered in memory and written in multi-row batches, so auditing never
// slows a request. A database outage keeps rows buffered (bounded) and retries; nothing throws.
import {
  type ActorKind,
  deleteInSlices,
  filterInstant,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  type Outcome,
  type Pool,
  type SqlRow,
} from '@cruise/shared';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { auditLog } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';

export interface AuditRecord {
  at: Date;
  requestId: string;
  actorKind: ActorKind;
  partnerId: string | null;
  method: string;
  route: string | null;
  path: string;
  status: number;
  durationMs: number;
  clientIp: string | null;
}

export interface AuditWriterOptions {
  flushIntervalMs: number;
  /** A batch this big is written at once rather than waiting for the timer. */
  batchSize?: number;
  /** Rows kept while the database is unreachable; beyond it the oldest are dropped (and counted). */
  maxBuffered?: number;
}

export interface AuditWriter {
  record(row: AuditRecord): void;
  /** Writes everything buffered now; resolves when written or when the write failed (rows kept). */
  flush(): Promise<void>;
  /** Stops the timer and makes a last attempt to write what is buffered. */
  close(): Promise<void>;
  stats(): { buffered: number; dropped: number; failing: boolean };
}

const COLUMNS =
  '(at, request_id, actor_kind, partner_id, method, route, path, status, duration_ms, client_ip)';
// One statement with ten array parameters, whatever the batch size.
const INSERT = `INSERT INTO ${table.audit_log} ${COLUMNS}
  SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                       $7::text[], $8::int[], $9::int[], $10::text[])`;

export function createAuditWriter(pool: Pool, log: Logger, opts: AuditWriterOptions): AuditWriter {
  const batchSize = opts.batchSize ?? 500;
  const maxBuffered = opts.maxBuffered ?? 100_000;
  let buffer: AuditRecord[] = [];
  let dropped = 0;
  let failing = false;
  let inFlight: Promise<void> | undefined;
  let closed = false;

  // Armed while rows wait (never on an idle gateway): a row is written at most flushIntervalMs after
  // it was recorded, and a failed write is retried after the same pause.
  let timer: NodeJS.Timeout | undefined;
  function arm(): void {
    if (timer || closed || buffer.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, opts.flushIntervalMs);
    timer.unref();
  }

  async function writeBatch(rows: AuditRecord[]): Promise<void> {
    await pool.query(INSERT, [
      rows.map((r) => r.at.toISOString()),
      rows.map((r) => r.requestId),
      rows.map((r) => r.actorKind),
      rows.map((r) => r.partnerId),
      rows.map((r) => r.method),
      rows.map((r) => r.route),
      rows.map((r) => r.path),
      rows.map((r) => r.status),
      rows.map((r) => Math.round(r.durationMs)),
      rows.map((r) => r.clientIp),
    ]);
  }

  function trim(): void {
    if (buffer.length <= maxBuffered) return;
    const excess = buffer.length - maxBuffered;
    buffer = buffer.slice(excess);
    if (dropped === 0) log.error({ maxBuffered }, 'audit buffer full; dropping the oldest rows');
    dropped += excess;
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      // Taken out while written; put back in front if the write fails, so order and count hold.
      const batch = buffer.splice(0, batchSize);
      try {
        await writeBatch(batch);
      } catch (err) {
        // A batch PostgreSQL rejects for its content (data or constraint error) would fail forever:
        // it is dropped, loudly, rather than blocking every row behind it.
        const sqlState = String((err as { code?: unknown }).code ?? '');
        if (/^2[23]/.test(sqlState)) {
          dropped += batch.length;
          log.error({ err, rows: batch.length }, 'audit batch rejected by the database; dropped');
          continue;
        }
        buffer = batch.concat(buffer);
        trim();
        if (!failing) log.warn({ err, buffered: buffer.length }, 'audit log write failed; keeping rows');
        failing = true;
        return; // the armed timer retries
      }
      if (failing) log.info({ buffered: buffer.length }, 'audit log writes recovered');
      failing = false;
    }
  }

  function flush(): Promise<void> {
    if (!inFlight) {
      inFlight = drain().finally(() => {
        inFlight = undefined;
        arm();
      });
    }
    return inFlight;
  }

  return {
    record(row) {
      buffer.push(row);
      trim();
      // After close, a request that was still draining is written at once rather than left behind.
      if (closed || (buffer.length >= batchSize && !failing)) void flush();
      else arm();
    },
    flush: async () => {
      await flush();
      // A flush requested while one was running must also cover rows recorded since.
      if (buffer.length > 0 && !failing) await flush();
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      if (inFlight) await inFlight;
      await flush();
      if (buffer.length > 0) log.error({ lost: buffer.length }, 'audit rows not written at shutdown');
    },
    stats: () => ({ buffered: buffer.length, dropped, failing }),
  };
}

export interface AuditQuery {
  partnerId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** An audit row as `listAudit` selects it (every column; `id` is a bigserial read as a number). */
export type AuditRow = SqlRow<typeof auditLog>;

/** Newest first, by the (at, id) indexes. */
export const AUDIT_NEWEST_FIRST = new Keyset('audit', [
  { sql: 'a.at', type: 'timestamptz' },
  { sql: 'a.id', type: 'bigint' },
]);

export async function listAudit(
  pool: Pool,
  q: AuditQuery & ListQuery,
): Promise<Outcome<{ page: ListPage<AuditRow> }, 'VALIDATION_FAILED'>> {
  const where: string[] = ['true'];
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  if (q.partnerId) where.push(`a.partner_id = ${bind(q.partnerId)}`);
  if (q.from) where.push(`a.at >= ${bind(filterInstant(q.from).toISOString())}::timestamptz`);
  if (q.to) where.push(`a.at < ${bind(filterInstant(q.to).toISOString())}::timestamptz`); // exclusive
  return AUDIT_NEWEST_FIRST.list(
    pool,
    q,
    {
      from: table.audit_log,
      alias: 'a',
      where: where.join(' AND '),
      select:
        'a.id, a.at, a.request_id, a.actor_kind, a.partner_id, a.method, a.route, a.path, a.status, a.duration_ms, a.client_ip',
    },
    params,
    ({ keysetKey: _, ...r }: AuditRow & KeyedRow): AuditRow => r,
  );
}

/**
 * Deletes audit rows older than the retention, a bounded slice at a time so a large backlog never holds
 * one long transaction. Returns how many were deleted.
 */
export async function purgeAuditLog(pool: Pool, retentionDays: number, sliceSize = 10_000): Promise<number> {
  return deleteInSlices(sliceSize, async (slice) => {
    const { rowCount } = await pool.query(
      `DELETE FROM ${table.audit_log} WHERE id IN (
         SELECT id FROM ${table.audit_log} WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
      [retentionDays, slice],
    );
    return rowCount ?? 0;
  });
}
