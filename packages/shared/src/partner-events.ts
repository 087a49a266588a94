// Partner-facing events into the owning service's outbox (see `partnerEventsData` in messages.ts).
import { randomUUID } from 'node:crypto';
import type { WebhookEventType } from './contract/webhooks.ts';
import type { PoolClient } from './db.ts';
import { events } from './messages.ts';

export interface PartnerEventInput {
  type: WebhookEventType;
  partnerId: string;
  /** `{ reservation }`, `{ batch }`, `{ ticket }`, `{ pool }`: the object in its GET shape. */
  data: Record<string, unknown>;
  /**
   * The object's own revision when it keeps one (tickets). Objects without a revision column get the
   * outbox row id: changes of one object are serialised by its row lock and each writes its outbox row
   * after taking that lock, so the id grows with every change of that object.
   */
  revision?: number;
}

/** At most this many events per outbox message, so a message stays far below NATS's payload limit. */
export const PARTNER_EVENTS_PER_MESSAGE = 200;

/** Writes partner events into `schema`'s outbox inside the caller's transaction. */
export async function appendPartnerEvents(
  client: PoolClient,
  schema: 'inventory' | 'issuance',
  list: PartnerEventInput[],
): Promise<void> {
  const def = schema === 'inventory' ? events.inventoryPartnerEvents : events.issuancePartnerEvents;
  const createdAt = new Date().toISOString();
  for (let i = 0; i < list.length; i += PARTNER_EVENTS_PER_MESSAGE) {
    const part = list.slice(i, i + PARTNER_EVENTS_PER_MESSAGE).map((e) => ({
      event_id: randomUUID(),
      type: e.type,
      partner_id: e.partnerId,
      created_at: createdAt,
      revision: e.revision ?? -1,
      data: e.data,
    }));
    const envelope = {
      id: randomUUID(),
      type: def.subject.split('.').slice(2).join('.'),
      occurred_at: createdAt,
      data: { events: part },
    };
    // -1 marks "use the row id": replaced in the same statement that takes the id.
    await client.query(
      `WITH n AS (SELECT nextval(pg_get_serial_sequence('"${schema}".outbox', 'id')) AS id)
       INSERT INTO "${schema}".outbox (id, subject, envelope)
       SELECT n.id, $1, jsonb_set($2::jsonb, '{data,events}', (
         SELECT jsonb_agg(CASE WHEN e->'revision' = '-1'::jsonb THEN jsonb_set(e, '{revision}', to_jsonb(n.id)) ELSE e END
                          ORDER BY o)
         FROM jsonb_array_elements($2::jsonb->'data'->'events') WITH ORDINALITY AS x(e, o)))
       FROM n`,
      [def.subject, JSON.stringify(envelope)],
    );
  }
}
