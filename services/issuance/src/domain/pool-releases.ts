// Units handed back to inventory. The ticket change and the pending release commit together; the
// release command is sent afterwards and retried by the sweep until inventory acknowledges it, with a
// stable `ref` so inventory applies it once.
import {
  type Channel,
  type CommandClient,
  type Logger,
  type Pool,
  type PoolClient,
  type SqlRow,
  withTransaction,
} from '@cruise/shared';
import type { pendingReleases } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';

export interface ReleaseRequest {
  ref: string;
  partnerId: string | null;
  productId: number;
  channel: Channel;
  from: 'held' | 'sold';
  quantity: number;
  reason: 'cancel' | 'expire';
}

export async function recordRelease(client: PoolClient, r: ReleaseRequest): Promise<void> {
  await client.query(
    `INSERT INTO ${table.pending_releases} (ref, partner_id, product_id, channel, from_state, quantity, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ref) DO NOTHING`,
    [r.ref, r.partnerId, r.productId, r.channel, r.from, r.quantity, r.reason],
  );
}

type PendingRow = Pick<
  SqlRow<typeof pendingReleases>,
  'ref' | 'partner_id' | 'product_id' | 'channel' | 'from_state' | 'quantity' | 'reason'
>;

/**
 * Sends unsent releases (all, or the given refs). Rows are claimed with SKIP LOCKED so several
 * instances never send the same one at the same moment (a repeat would be harmless anyway).
 * Returns how many inventory acknowledged.
 */
export async function flushPendingReleases(
  pool: Pool,
  inventory: CommandClient,
  log: Logger,
  opts: { refs?: string[]; limit?: number } = {},
): Promise<number> {
  let sent = 0;
  for (;;) {
    // A retried transaction (deadlock) starts over: count only what the committed attempt sent.
    const round = await withTransaction(pool, async (client) => {
      let acknowledged = 0;
      let stop = false;
      const { rows } = await client.query<PendingRow>(
        `SELECT ref, partner_id, product_id, channel, from_state, quantity, reason
         FROM ${table.pending_releases} WHERE sent_at IS NULL ${opts.refs ? 'AND ref = ANY($2::text[])' : ''}
         ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        opts.refs ? [opts.limit ?? 100, opts.refs] : [opts.limit ?? 100],
      );
      for (const row of rows) {
        try {
          const reply = await inventory.send('release', {
            ref: row.ref,
            partner_id: row.partner_id,
            product_id: row.product_id,
            channel: row.channel,
            from: row.from_state,
            quantity: row.quantity,
            reason: row.reason,
          });
          if (reply.ok) {
            await client.query(`UPDATE ${table.pending_releases} SET sent_at = now() WHERE ref = $1`, [
              row.ref,
            ]);
            acknowledged++;
          } else {
            // A refusal is not transient: keep it visible for an operator rather than retry forever fast.
            log.error(
              { ref: row.ref, code: reply.code, detail: reply.detail },
              'inventory refused a release',
            );
            await client.query(
              `UPDATE ${table.pending_releases} SET attempts = attempts + 1, last_error = $2 WHERE ref = $1`,
              [row.ref, `${reply.code}: ${reply.detail}`],
            );
          }
        } catch (err) {
          await client.query(
            `UPDATE ${table.pending_releases} SET attempts = attempts + 1, last_error = $2 WHERE ref = $1`,
            [row.ref, (err as Error).message],
          );
          // Inventory unreachable: the rest would only wait out the same timeout; the sweep retries.
          stop = true;
          break;
        }
      }
      return { claimed: rows.length, acknowledged, unreachable: stop };
    });
    sent += round.acknowledged;
    const { claimed, unreachable } = round;
    if (unreachable || opts.refs || claimed < (opts.limit ?? 100)) return sent;
    if (round.acknowledged === 0) return sent; // only refusals left: they wait for an operator, not for this loop
  }
}
