// A partner's sub-resellers. Every statement is scoped by partner_id: another partner's reseller is
// not found. Deleting one that tickets or batches refer to keeps it as INACTIVE, so history stays.
import {
  type CreateResellerBody,
  type KeyedRow,
  Keyset,
  type ListPage,
  type ListQuery,
  newId,
  type Outcome,
  type PoolClient,
  type Reseller,
  refuse,
  type SqlRow,
  type UpdateResellerBody,
} from '@cruise/shared';
import type { resellers } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import type { Queryable } from './ticket-records.ts';

/** `commission_rate` is numeric: read as a number (the process's parser, drizzle's mode 'number'). */
type ResellerRow = Omit<SqlRow<typeof resellers>, 'partner_id'>;

const COLUMNS = 'reseller_id, name, contact_email, region, commission_rate, status, created_at, updated_at';

function toReseller(r: ResellerRow): Reseller {
  return { ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() };
}

export async function createReseller(client: PoolClient, partnerId: string, body: CreateResellerBody) {
  const { rows } = await client.query<ResellerRow>(
    `INSERT INTO ${table.resellers} (reseller_id, partner_id, name, contact_email, region, commission_rate)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [
      newId(),
      partnerId,
      body.name,
      body.contact_email ?? null,
      body.region ?? null,
      body.commission_rate ?? null,
    ],
  );
  return toReseller(rows[0]!);
}

const noSuchReseller = () => refuse('NOT_FOUND', 'No such reseller');

export async function getReseller(
  client: Queryable,
  partnerId: string,
  resellerId: string,
): Promise<Outcome<{ reseller: Reseller }>> {
  const { rows } = await client.query<ResellerRow>(
    `SELECT ${COLUMNS} FROM ${table.resellers} WHERE reseller_id = $1 AND partner_id = $2`,
    [resellerId, partnerId],
  );
  return rows[0] ? { ok: true, reseller: toReseller(rows[0]) } : noSuchReseller();
}

/** A partner's resellers, newest first. */
export const RESELLERS_NEWEST_FIRST = new Keyset('resellers', [
  { sql: 's.created_at', type: 'timestamptz' },
  { sql: 's.reseller_id', type: 'uuid' },
]);

export async function listResellers(
  client: Queryable,
  partnerId: string,
  q: ListQuery & { status?: 'ACTIVE' | 'INACTIVE' | undefined },
): Promise<Outcome<{ page: ListPage<Reseller> }, 'VALIDATION_FAILED'>> {
  return RESELLERS_NEWEST_FIRST.list(
    client,
    q,
    {
      from: table.resellers,
      alias: 's',
      where: q.status ? 's.partner_id = $1 AND s.status = $2' : 's.partner_id = $1',
      select: COLUMNS,
    },
    q.status ? [partnerId, q.status] : [partnerId],
    ({ keysetKey: _, ...r }: ResellerRow & KeyedRow) => toReseller(r),
  );
}

export async function updateReseller(
  client: PoolClient,
  partnerId: string,
  resellerId: string,
  body: UpdateResellerBody,
): Promise<Outcome<{ reseller: Reseller }>> {
  const sets: string[] = [];
  const params: unknown[] = [resellerId, partnerId];
  for (const field of ['name', 'contact_email', 'region', 'commission_rate', 'status'] as const) {
    if (body[field] !== undefined) {
      params.push(body[field]);
      sets.push(`${field} = $${params.length}`);
    }
  }
  const { rows } = await client.query<ResellerRow>(
    `UPDATE ${table.resellers} SET ${sets.join(', ')}, updated_at = now()
     WHERE reseller_id = $1 AND partner_id = $2 RETURNING ${COLUMNS}`,
    params,
  );
  return rows[0] ? { ok: true, reseller: toReseller(rows[0]) } : noSuchReseller();
}

/** Removes a reseller nobody refers to; one that tickets or batches refer to becomes INACTIVE instead. */
export async function deleteReseller(
  client: PoolClient,
  partnerId: string,
  resellerId: string,
): Promise<Outcome<{ deleted: true } | { deleted: false; reseller: Reseller }>> {
  const { rows } = await client.query<{ reseller_id: string }>(
    `SELECT reseller_id FROM ${table.resellers} WHERE reseller_id = $1 AND partner_id = $2 FOR UPDATE`,
    [resellerId, partnerId],
  );
  if (!rows[0]) return noSuchReseller();
  const { rows: used } = await client.query(
    `SELECT 1 FROM ${table.tickets} WHERE partner_id = $1 AND reseller_id = $2
     UNION ALL SELECT 1 FROM ${table.batches} WHERE partner_id = $1 AND reseller_id = $2 LIMIT 1`,
    [partnerId, resellerId],
  );
  if (used.length === 0) {
    await client.query(`DELETE FROM ${table.resellers} WHERE reseller_id = $1 AND partner_id = $2`, [
      resellerId,
      partnerId,
    ]);
    return { ok: true, deleted: true };
  }
  return updateReseller(client, partnerId, resellerId, { status: 'INACTIVE' }).then((r) =>
    r.ok ? { ok: true, deleted: false, reseller: r.reseller } : r,
  );
}
