// The operator's view of pool releases still waiting for inventory (pool-releases.ts writes and sends
// them): a release inventory refuses stays here, with its last error, until someone looks.
import {
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  type Outcome,
  type PendingRelease,
  type Pool,
} from '@cruise/shared';
import { table } from '../db/tables.ts';

/** Oldest first: the release waiting longest is the one to look at. */
export const PENDING_RELEASES_OLDEST_FIRST = new Keyset(
  'pending-releases',
  [
    { sql: 'pr.created_at', type: 'timestamptz' },
    { sql: 'pr.ref', type: 'text' },
  ],
  { direction: 'ASC' },
);

type PendingReleaseRow = Omit<PendingRelease, 'created_at'> & { created_at: Date };

export async function listPendingReleases(
  pool: Pool,
  q: ListQuery,
): Promise<Outcome<{ page: ListPage<PendingRelease> }, 'VALIDATION_FAILED'>> {
  return PENDING_RELEASES_OLDEST_FIRST.list(
    pool,
    q,
    {
      from: table.pending_releases,
      alias: 'pr',
      where: 'pr.sent_at IS NULL',
      select: `pr.ref, pr.partner_id, pr.product_id, pr.channel, pr.from_state AS "from", pr.quantity, pr.reason,
        pr.attempts, pr.last_error, pr.created_at`,
    },
    [],
    ({ keysetKey: _, ...r }: PendingReleaseRow & KeyedRow) => ({
      ...r,
      created_at: r.created_at.toISOString(),
    }),
  );
}
