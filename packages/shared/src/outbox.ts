// Transactional outbox: events are rows written in the same transaction as the change they describe,
// then relayed to JetStream with the row id as the message id. Nothing is lost when NATS is down.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, type PgSchema, text, timestamp } from 'drizzle-orm/pg-core';
import { deleteInSlices, type Pool, type PoolClient, withTransaction } from './db.ts';
import type { Logger } from './logger.ts';
import { type EventData, type EventName, events } from './messages.ts';
import { type NatsConnection, publishSerializedEvent } from './nats.ts';

/** The outbox table in a service's own schema (each service's drizzle schema includes it). */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: bigserial('id', { mode: 'number' }).primaryKey(),
      /** Relative subject, e.g. `events.issuance.tickets.issued`. */
      subject: text('subject').notNull(),
      /** The full event envelope as published. */
      envelope: jsonb('envelope').notNull(),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
      publishedAt: timestamp('published_at', { withTimezone: true }),
    },
    (t) => [index('outbox_unpublished_idx').on(t.id).where(sqlUnpublished)],
  );
}
const sqlUnpublished = sql`published_at IS NULL`;

/** Writes an event into the outbox inside the caller's transaction. */
export async function appendEvent<N extends EventName>(
  client: PoolClient,
  schema: string,
  name: N,
  data: EventData<N>,
): Promise<void> {
  const def = events[name];
  const envelope = {
    id: randomUUID(),
    type: def.subject.split('.').slice(2).join('.'),
    occurred_at: new Date().toISOString(),
    data: def.data.parse(data),
  };
  await client.query(`INSERT INTO "${schema}".outbox (subject, envelope) VALUES ($1, $2)`, [
    def.subject,
    envelope,
  ]);
}

/**
 * Deletes published outbox rows older than `olderThanHours` (JetStream's duplicate window is 10 minutes;
 * a day leaves room to investigate), in bounded slices so a large purge never holds long locks.
 */
export async function purgePublishedOutbox(pool: Pool, schema: string, olderThanHours = 24): Promise<number> {
  return deleteInSlices(5_000, async (slice) => {
    const { rowCount } = await pool.query(
      `DELETE FROM "${schema}".outbox WHERE id IN (
         SELECT id FROM "${schema}".outbox
          WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)
          LIMIT $2)`,
      [olderThanHours, slice],
    );
    return rowCount ?? 0;
  });
}

export interface OutboxRelay {
  /** Ask for an immediate pass (after a commit that wrote events). */
  kick(): void;
  /** Publishes whatever is pending once; returns how many were published. */
  drainOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Publishes pending outbox rows in id order. Several relays (replicas) may run: rows are claimed with
 * FOR UPDATE SKIP LOCKED, and a re-publish after a crash is dropped by JetStream's de-duplication.
 */
export function startOutboxRelay(opts: {
  pool: Pool;
  nc: NatsConnection;
  prefix: string;
  schema: string;
  log: Logger;
  intervalMs?: number;
  batchSize?: number;
  /**
   * A kicked pass starts at least this long after the previous pass started, so the rows committed
   * meanwhile go out together: one claim, one mark and one commit for them all.
   */
  minGapMs?: number;
  /** Told the size of every pass that published something (a metric). */
  onPass?: (published: number) => void;
}): OutboxRelay {
  const { pool, nc, prefix, schema, log } = opts;
  const interval = opts.intervalMs ?? 200;
  const batchSize = opts.batchSize ?? 500;
  const minGap = opts.minGapMs ?? 10;
  let lastPassStart = Number.NEGATIVE_INFINITY;
  const untilGap = () => Math.max(0, lastPassStart + minGap - performance.now());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let failing = false;
  // A kick that came while a pass ran: the rows it announced may have been committed after that pass's
  // SELECT, so another pass follows (after the gap) instead of leaving them to the interval.
  let kickedWhileRunning = false;

  async function drainOnce(): Promise<number> {
    return withTransaction(pool, async (client) => {
      const { rows } = await client.query<{ id: number; subject: string; msg_id: string; json: string }>(
        `SELECT id, subject, envelope->>'id' AS msg_id, envelope::text AS json
           FROM "${schema}".outbox WHERE published_at IS NULL
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((r) =>
          publishSerializedEvent(nc, prefix, { id: r.msg_id, subject: r.subject, json: r.json }),
        ),
      );
      await client.query(`UPDATE "${schema}".outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }

  async function loop() {
    if (stopped) return;
    running = (async () => {
      let total = 0;
      for (;;) {
        kickedWhileRunning = false;
        lastPassStart = performance.now();
        const n = await drainOnce();
        if (n > 0) opts.onPass?.(n);
        total += n;
        // A full batch means more is waiting: the next pass goes at once.
        if (n < batchSize) return total;
      }
    })();
    try {
      await running;
      if (failing) log.info({ schema }, 'outbox relay recovered');
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err, schema }, 'outbox relay cannot publish yet; will retry');
      failing = true;
    } finally {
      running = undefined;
      if (!stopped) {
        const next = failing ? interval * 5 : kickedWhileRunning ? untilGap() : interval;
        timer = setTimeout(loop, next);
      }
    }
  }

  timer = setTimeout(loop, 0);

  return {
    kick() {
      if (stopped) return;
      if (running) {
        kickedWhileRunning = true;
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(loop, untilGap());
    },
    drainOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
