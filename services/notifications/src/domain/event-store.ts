// Stores partner events for the feed and fans each new one out to the partner's matching, enabled
// webhooks as PENDING deliveries, in one transaction: an event is in the feed exactly when its
// deliveries exist. Storing is idempotent by event id (JetStream delivers at least once).
import type { PartnerEvent, PartnerEventsData, Pool } from '@cruise/shared';
import { deleteInSlices, withTransaction } from '@cruise/shared';
import { table } from '../db/tables.ts';
import type { EventBodies } from './deliveries.ts';

/** The one lock every event writer takes: positions then commit in the order they were assigned. */
export const EVENT_WRITER_LOCK = 0x4e_4f_54_49; // "NOTI"

export interface NewDelivery {
  delivery_id: string;
  webhook_id: string;
  attempts: number;
}

export function toPayload(e: PartnerEventsData['events'][number]): PartnerEvent {
  return {
    event_id: e.event_id,
    type: e.type,
    created_at: e.created_at,
    partner_id: e.partner_id,
    revision: e.revision,
    data: e.data,
  };
}

/**
 * Inserts the events not stored yet and their deliveries; returns the deliveries to enqueue. Once
 * committed, the new events' bodies (as PostgreSQL renders them) go into `bodies` for the dispatcher.
 */
export async function storeEvents(
  pool: Pool,
  list: PartnerEventsData['events'],
  bodies?: EventBodies,
): Promise<NewDelivery[]> {
  if (list.length === 0) return [];
  let stored: { event_id: string; body: string }[] = [];
  const created = await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [EVENT_WRITER_LOCK]);
    ({ rows: stored } = await client.query<{ event_id: string; body: string }>(
      `INSERT INTO ${table.events} (event_id, partner_id, type, revision, payload, created_at)
       SELECT (p->>'event_id')::uuid, (p->>'partner_id')::uuid, p->>'type', (p->>'revision')::bigint, p,
              (p->>'created_at')::timestamptz
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(p, ord) ORDER BY ord
       ON CONFLICT (event_id) DO NOTHING RETURNING event_id, ${bodies ? 'payload::text' : 'NULL'} AS body`,
      [JSON.stringify(list.map(toPayload))],
    ));
    if (stored.length === 0) return [];
    const { rows } = await client.query<NewDelivery>(
      `INSERT INTO ${table.deliveries} (delivery_id, webhook_id, partner_id, event_id, event_type, status,
         next_attempt_at, event_created_at)
       SELECT gen_random_uuid(), w.webhook_id, e.partner_id, e.event_id, e.type, 'PENDING', now(), e.created_at
       FROM ${table.events} e
       JOIN ${table.webhooks} w ON w.partner_id = e.partner_id AND w.status = 'ENABLED'
        AND (e.type = ANY(w.events) OR '*' = ANY(w.events))
       WHERE e.event_id = ANY($1::uuid[])
       ORDER BY e.position, w.webhook_id
       ON CONFLICT (webhook_id, event_id) WHERE redelivery_of IS NULL DO NOTHING
       RETURNING delivery_id, webhook_id, attempts`,
      [stored.map((s) => s.event_id)],
    );
    return rows;
  });
  if (bodies && created.length > 0) for (const s of stored) bodies.set(s.event_id, s.body);
  return created;
}

/** Retention: events (and finished deliveries) older than `days` are deleted, in bounded slices. */
export async function purgeOldEvents(pool: Pool, days: number, slice = 5_000): Promise<number> {
  return deleteInSlices(slice, async (limit) => {
    const { rowCount } = await pool.query(
      `DELETE FROM ${table.events} WHERE event_id IN (
         SELECT event_id FROM ${table.events} WHERE stored_at < now() - make_interval(days => $1) LIMIT $2)`,
      [days, limit],
    );
    await pool.query(
      `DELETE FROM ${table.deliveries} WHERE delivery_id IN (
         SELECT delivery_id FROM ${table.deliveries}
         WHERE status <> 'PENDING' AND created_at < now() - make_interval(days => $1) LIMIT $2)`,
      [days, limit],
    );
    return rowCount ?? 0;
  });
}
