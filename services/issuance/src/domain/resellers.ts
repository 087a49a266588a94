// A partner's sub-resellers. Every statement is scoped by partner_id: another partner's reseller is
// not found. Deleting one that tickets or batches refer to keeps it as INACTIVE, so history stays.
import {
  type CreateResellerBody,
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

export async function listResellers(
  client: Queryable,
  partnerId: string,
  q: { page: number; page_size: number; status?: 'ACTIVE' | 'INACTIVE' },
) {
  const filter = q.status ? 'AND status = $4' : '';
  const params = [partnerId, q.page_size, (q.page - 1) * q.page_size, ...(q.status ? [q.status] : [])];
  const { rows } = await client.query<ResellerRow & { total: number }>(
    `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM ${table.resellers} WHERE partner_id = $1 ${filter}
     ORDER BY created_at DESC NULLS LAST, reseller_id DESC NULLS LAST LIMIT $2 OFFSET $3`,
    params,
  );
  let total = rows[0]?.total;
  if (total === undefined) {
    const c = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table.resellers} WHERE partner_id = $1 ${q.status ? 'AND status = $2' : ''}`,
      q.status ? [partnerId, q.status] : [partnerId],
    );
    total = c.rows[0]?.n ?? 0;
  }
  return {
    data: rows.map(({ total: _t, ...r }) => toReseller(r)),
    page: q.page,
    page_size: q.page_size,
    total,
    has_more: q.page * q.page_size < total,
  };
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
