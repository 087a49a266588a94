// The operator's view of pool releases still waiting for inventory (pool-releases.ts writes and sends
// them): a release inventory refuses stays here, with its last error, until someone looks.
import type { PendingRelease, Pool } from '@cruise/shared';
import { table } from '../db/tables.ts';

export async function listPendingReleases(pool: Pool, page: number, pageSize: number) {
  const [{ rows }, count] = await Promise.all([
    pool.query<Omit<PendingRelease, 'created_at'> & { created_at: Date }>(
      `SELECT ref, partner_id, product_id, channel, from_state AS "from", quantity, reason, attempts,
         last_error, created_at
       FROM ${table.pending_releases} WHERE sent_at IS NULL ORDER BY created_at, ref LIMIT $1 OFFSET $2`,
      [pageSize, (page - 1) * pageSize],
    ),
    pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table.pending_releases} WHERE sent_at IS NULL`,
    ),
  ]);
  const total = count.rows[0]?.n ?? 0;
  return {
    data: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })),
    page,
    page_size: pageSize,
    total,
    has_more: page * pageSize < total,
  };
}
