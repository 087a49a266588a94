// The pull feed: events of one partner in commit order (position), after an opaque cursor. A cursor is
// the position plus an HMAC over it and the partner, so the server accepts only cursors it issued.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import {
  type Outcome,
  type PartnerEvent,
  type Pool,
  refuse,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '@cruise/shared';
import { table } from '../db/tables.ts';

export interface CursorCodec {
  encode(partnerId: string, position: number): string;
  decode(partnerId: string, cursor: string): number | null;
}

export function cursorCodec(rootSecret: string): CursorCodec {
  const key = Buffer.from(hkdfSync('sha256', rootSecret, 'cruise-event-feed', 'cursor', 32));
  const tag = (partnerId: string, position: number) =>
    createHmac('sha256', key).update(`${partnerId}:${position}`).digest().subarray(0, 16);
  return {
    encode(partnerId, position) {
      return `${position.toString(36)}.${tag(partnerId, position).toString('base64url')}`;
    },
    decode(partnerId, cursor) {
      const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
      if (!m) return null;
      const position = Number.parseInt(m[1]!, 36);
      if (!Number.isSafeInteger(position)) return null;
      const given = Buffer.from(m[2]!, 'base64url');
      const expected = tag(partnerId, position);
      return given.length === expected.length && timingSafeEqual(given, expected) ? position : null;
    },
  };
}

/** `ticket.used,batch.completed` → the types, or a refusal naming an unknown one. */
export function parseTypes(raw: string | undefined): Outcome<{ types: WebhookEventType[] | null }> {
  if (raw === undefined || raw.trim() === '') return { ok: true, types: null };
  const types = raw.split(',').map((t) => t.trim());
  const unknown = types.find((t) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown !== undefined) {
    return refuse('VALIDATION_FAILED', `types: unknown event type "${unknown}"`, {
      errors: [{ path: 'types', message: `unknown event type "${unknown}"` }],
    });
  }
  return { ok: true, types: types as WebhookEventType[] };
}

export async function readFeed(
  pool: Pool,
  codec: CursorCodec,
  input: { partnerId: string; after?: string; types?: string; limit: number },
): Promise<Outcome<{ data: PartnerEvent[]; next_cursor: string }>> {
  let after = 0;
  if (input.after !== undefined) {
    const decoded = codec.decode(input.partnerId, input.after);
    if (decoded === null) {
      return refuse('VALIDATION_FAILED', 'after: not a cursor this server issued', {
        errors: [{ path: 'after', message: 'not a cursor this server issued' }],
      });
    }
    after = decoded;
  }
  const types = parseTypes(input.types);
  if (!types.ok) return types;
  const { rows } = await pool.query<{ position: string; payload: PartnerEvent }>(
    `SELECT position, payload FROM ${table.events}
     WHERE partner_id = $1 AND position > $2 AND ($3::text[] IS NULL OR type = ANY($3))
     ORDER BY position LIMIT $4`,
    [input.partnerId, after, types.types, input.limit],
  );
  const last = rows.at(-1);
  const next = last ? Number(last.position) : after;
  return { ok: true, data: rows.map((r) => r.payload), next_cursor: codec.encode(input.partnerId, next) };
}
