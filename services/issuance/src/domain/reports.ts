// Billing summary and reconciliation for one partner. The counting rules are stated in the contract
// (packages/shared/src/contract/issuance/reports.ts, BillingSummary / ReconciliationReport descriptions).
import type { CommandClient, Outcome, ReconciliationReport, SqlRow } from '@cruise/shared';
import type { resellers, tickets } from '../db/schema/index.ts';
import { table } from '../db/tables.ts';
import type { Queryable } from './ticket-records.ts';

/** The UTC days from..to, both included, as a half-open timestamp range. */
export function periodBounds(from: string, to: string): [string, string] {
  const end = new Date(`${to}T00:00:00.000Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  return [`${from}T00:00:00.000Z`, end.toISOString()];
}

const inPeriod = (col: string) => `${col} >= $2 AND ${col} < $3`;
/** The counted figures, each an int or bigint expression (both read as numbers): `CountRow` is their keys. */
const COUNT_EXPRESSIONS = {
  issued: `count(*) FILTER (WHERE ${inPeriod('t.created_at')})::int`,
  activated: `count(*) FILTER (WHERE ${inPeriod('t.activated_at')})::int`,
  used: `count(*) FILTER (WHERE ${inPeriod('t.used_at')})::int`,
  cancelled: `count(*) FILTER (WHERE ${inPeriod('t.cancelled_at')})::int`,
  gross: `COALESCE(sum(t.price_amount) FILTER (WHERE ${inPeriod('t.activated_at')} AND t.status IN ('ACTIVE', 'USED')), 0)::bigint`,
};
const COUNTS = Object.entries(COUNT_EXPRESSIONS)
  .map(([name, expression]) => `${expression} AS ${name}`)
  .join(',\n  ');
// Only tickets with at least one event in the period can count; the OR lets each bound use a range.
const TOUCHED = `(${inPeriod('t.created_at')} OR ${inPeriod('t.activated_at')} OR ${inPeriod('t.used_at')}
  OR ${inPeriod('t.cancelled_at')})`;

type CountRow = Record<keyof typeof COUNT_EXPRESSIONS, number>;

export async function billingSummary(client: Queryable, partnerId: string, from: string, to: string) {
  const [start, end] = periodBounds(from, to);
  const params = [partnerId, start, end];
  const currencyOf = async () => {
    const { rows } = await client.query<{ c: string | null }>(
      `SELECT max(price_currency) AS c FROM ${table.tickets} t WHERE t.partner_id = $1 AND ${TOUCHED}`,
      params,
    );
    return rows[0]?.c ?? 'USD';
  };
  const currency = await currencyOf();
  const money = (r: CountRow) => ({
    issued: r.issued,
    activated: r.activated,
    used: r.used,
    cancelled: r.cancelled,
    gross: { amount: Number(r.gross), currency },
  });
  const totals = await client.query<CountRow>(
    `SELECT ${COUNTS} FROM ${table.tickets} t WHERE t.partner_id = $1 AND ${TOUCHED}`,
    params,
  );
  const byReseller = await client.query<CountRow & Pick<SqlRow<typeof resellers>, 'reseller_id' | 'name'>>(
    `SELECT t.reseller_id, r.name, ${COUNTS} FROM ${table.tickets} t
     JOIN ${table.resellers} r ON r.reseller_id = t.reseller_id AND r.partner_id = t.partner_id
     WHERE t.partner_id = $1 AND t.reseller_id IS NOT NULL AND ${TOUCHED}
     GROUP BY t.reseller_id, r.name ORDER BY r.name, t.reseller_id`,
    params,
  );
  const byProduct = await client.query<CountRow & Pick<SqlRow<typeof tickets>, 'product_id'>>(
    `SELECT t.product_id, ${COUNTS} FROM ${table.tickets} t WHERE t.partner_id = $1 AND ${TOUCHED}
     GROUP BY t.product_id ORDER BY t.product_id`,
    params,
  );
  return {
    from,
    to,
    currency,
    totals: money(totals.rows[0]!),
    by_reseller: byReseller.rows.map((r) => ({ reseller_id: r.reseller_id, name: r.name, ...money(r) })),
    by_product: byProduct.rows.map((r) => ({ product_id: r.product_id, ...money(r) })),
  };
}

export async function reconciliation(
  client: Queryable,
  inventory: CommandClient,
  partnerId: string,
  from: string,
  to: string,
): Promise<Outcome<{ report: ReconciliationReport }>> {
  const [start, end] = periodBounds(from, to);
  const reply = await inventory.send('listPools', { partner_id: partnerId });
  if (!reply.ok) return reply;
  const { rows } = await client.query<{
    product_id: number;
    channel: 'ota' | 'reseller';
    activated: number;
    used: number;
    expired: number;
    cancelled: number;
    tickets_pre_generated: number;
    tickets_sold: number;
  }>(
    `SELECT t.product_id, t.channel,
       count(*) FILTER (WHERE ${inPeriod('t.activated_at')})::int AS activated,
       count(*) FILTER (WHERE ${inPeriod('t.used_at')})::int AS used,
       count(*) FILTER (WHERE ${inPeriod('t.expired_at')})::int AS expired,
       count(*) FILTER (WHERE ${inPeriod('t.cancelled_at')})::int AS cancelled,
       count(*) FILTER (WHERE t.status = 'PRE_GENERATED')::int AS tickets_pre_generated,
       count(*) FILTER (WHERE t.status IN ('ACTIVE', 'USED'))::int AS tickets_sold
     FROM ${table.tickets} t WHERE t.partner_id = $1 AND t.channel IN ('ota', 'reseller')
     GROUP BY t.product_id, t.channel`,
    [partnerId, start, end],
  );
  const key = (p: number, c: string) => `${p}:${c}`;
  const byKey = new Map(rows.map((r) => [key(r.product_id, r.channel), r]));
  const keys = new Map<string, { product_id: number; channel: 'ota' | 'reseller' }>();
  for (const p of reply.pools) {
    if (p.channel !== 'direct')
      keys.set(key(p.product_id, p.channel), { product_id: p.product_id, channel: p.channel });
  }
  for (const r of rows)
    keys.set(key(r.product_id, r.channel), { product_id: r.product_id, channel: r.channel });
  const pools = new Map(reply.pools.map((p) => [key(p.product_id, p.channel), p]));
  const out = [...keys.values()]
    .sort((a, b) => a.product_id - b.product_id || a.channel.localeCompare(b.channel))
    .map(({ product_id, channel }) => {
      const p = pools.get(key(product_id, channel));
      const t = byKey.get(key(product_id, channel));
      return {
        product_id,
        channel,
        allocated: p?.allocated ?? 0,
        held: p?.held ?? 0,
        sold: p?.sold ?? 0,
        available: p?.available ?? 0,
        activated: t?.activated ?? 0,
        used: t?.used ?? 0,
        expired: t?.expired ?? 0,
        cancelled: t?.cancelled ?? 0,
        tickets_pre_generated: t?.tickets_pre_generated ?? 0,
        tickets_sold: t?.tickets_sold ?? 0,
      };
    });
  return { ok: true, report: { from, to, as_of: new Date().toISOString(), rows: out } };
}
