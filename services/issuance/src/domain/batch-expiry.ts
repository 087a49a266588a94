// The tentative period of pre-generated tickets: when a batch's period ends, its tickets still
// PRE_GENERATED become EXPIRED and their units go back from held to the reseller pool.

import { randomUUID } from 'node:crypto';
import { type Pool, withTransaction } from '@cruise/shared';
import { table } from '../db/tables.ts';
import { recordRelease } from './pool-releases.ts';
import { appendTicketEvents, appendTicketPartnerEvents } from './ticket-events.ts';
import { TICKET_COLUMNS, TICKET_JOINS, type TicketRow, toSnapshot } from './ticket-records.ts';

/**
 * Expires, chunk by chunk, the PRE_GENERATED tickets of every batch whose tentative period ended by
 * `now`. Each chunk's status change, its pending release and its event commit together, so a crash
 * loses nothing and a repeat finds nothing left to do. Returns how many tickets expired.
 */
export async function expireDueBatches(pool: Pool, now: Date, chunkSize = 2_000): Promise<number> {
  let expired = 0;
  {
    const { rows: due } = await pool.query<{ batch_id: string; partner_id: string; product_id: number }>(
      `SELECT batch_id, partner_id, product_id FROM ${table.batches}
       WHERE expiry_swept_at IS NULL AND expires_at <= $1 AND status IN ('COMPLETED', 'FAILED')
       ORDER BY expires_at LIMIT 100`,
      [now],
    );
    for (const b of due) {
      for (;;) {
        const n = await withTransaction(pool, async (client) => {
          const { rows } = await client.query<TicketRow>(
            `WITH chosen AS (
               SELECT id FROM ${table.tickets} WHERE batch_id = $1 AND partner_id = $2 AND status = 'PRE_GENERATED'
               ORDER BY batch_seq LIMIT $3 FOR UPDATE SKIP LOCKED
             ), changed AS (
               UPDATE ${table.tickets} SET status = 'EXPIRED', expired_at = now(), revision = revision + 1
               WHERE id IN (SELECT id FROM chosen) RETURNING *
             )
             SELECT ${TICKET_COLUMNS} FROM changed t ${TICKET_JOINS}`,
            [b.batch_id, b.partner_id, chunkSize],
          );
          if (rows.length === 0) {
            // Nothing left unless a locked ticket is being activated right now: then look again next sweep.
            const { rows: left } = await client.query(
              `SELECT 1 FROM ${table.tickets} WHERE batch_id = $1 AND status = 'PRE_GENERATED' LIMIT 1`,
              [b.batch_id],
            );
            if (left.length === 0) {
              await client.query(`UPDATE ${table.batches} SET expiry_swept_at = now() WHERE batch_id = $1`, [
                b.batch_id,
              ]);
            }
            return 0;
          }
          await recordRelease(client, {
            ref: `expire:${b.batch_id}:${randomUUID()}`,
            partnerId: b.partner_id,
            productId: b.product_id,
            channel: 'reseller',
            from: 'held',
            quantity: rows.length,
            reason: 'expire',
          });
          await appendTicketEvents(client, 'ticketsExpired', rows.map(toSnapshot));
          await appendTicketPartnerEvents(client, 'ticket.expired', rows);
          return rows.length;
        });
        expired += n;
        if (n === 0) break;
      }
    }
  }
  // At most 100 batches per sweep; the scheduler's next run takes the rest.
  return expired;
}
