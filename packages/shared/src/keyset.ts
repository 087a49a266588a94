// Keyset ("seek") paging, shared by every list. A list is ordered by a unique key; a cursor carries the
// key of the last row shown, and the next page is `WHERE (key) < (cursor) ORDER BY key LIMIT n`: one
// index descent whatever the depth, and rows inserted ahead of the walk (newer ones) never shift it.
import { type SQL, sql } from 'drizzle-orm';
import type { Queryable } from './db.ts';
import { type Outcome, refuse } from './errors.ts';

/** The PostgreSQL type of a key column: how its cursor value is checked and cast back. */
export type KeyType = 'timestamptz' | 'bigint' | 'integer' | 'uuid' | 'text';

export interface KeyColumn {
  /** The column as the list's SQL names it (`t.created_at`). */
  sql: string;
  type: KeyType;
}

/** What every list query carries (`paginationQuery` in the contract). */
export interface ListQuery {
  page?: number | undefined;
  page_size: number;
  cursor?: string | undefined;
}

/** A list query, resolved: either an offset page or the continuation after a cursor's key. */
export interface PageRequest {
  pageSize: number;
  /** Rows to skip: `(page - 1) × page_size` for `page`, 0 after a cursor. */
  offset: number;
  /** The key to continue after, or null for an offset page. */
  after: readonly string[] | null;
  /** Rows of the walk before this page: the response's `page` and the lower bounds derive from it. */
  position: number;
}

/** The list envelope of the contract (`pageOf` in contract/common.ts). */
export interface ListPage<T> {
  data: T[];
  page: number;
  page_size: number;
  total: number;
  has_more: boolean;
  next_cursor: string | null;
}

/** Rows read with `keyset.keySelect`: the cursor key of each row, as text. */
export interface KeyedRow {
  keysetKey: string[];
}

/** What `listSql` pages: a table with its alias, the filter, and what to select from the page's rows. */
export interface ListSqlParts {
  /** The table's SQL name (`sqlName(table)`, `table.tickets`). */
  from: string;
  alias: string;
  /** The list's filter (the partner's, at least), without the cursor's condition. */
  where: string;
  /** The columns the page returns (of `alias` and of the joined tables). */
  select: string;
  /** Joins added after paging (names of resellers, products…), so they run for the page's rows only. */
  joins?: string;
  /** Count at most this many matches (+1, to tell "more"); exact when absent. */
  countCap?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{6}Z$/;
const MAX_POSITION = 1e12;

function validKeyValue(type: KeyType, v: unknown): v is string {
  if (typeof v !== 'string') return false;
  switch (type) {
    case 'timestamptz': {
      const m = TIMESTAMP.exec(v);
      // The round trip refuses 2026-02-30 and the like, and PostgreSQL has no year 0: either would
      // fail the cast (a 500) instead of answering 400.
      return (
        m !== null &&
        !m[1]!.startsWith('0000') &&
        !Number.isNaN(Date.parse(`${m[1]}Z`)) &&
        new Date(`${m[1]}Z`).toISOString().startsWith(m[1]!)
      );
    }
    case 'bigint':
      return (
        /^-?\d{1,19}$/.test(v) &&
        BigInt(v) <= 9_223_372_036_854_775_807n &&
        BigInt(v) >= -9_223_372_036_854_775_808n
      );
    case 'integer':
      return /^-?\d{1,10}$/.test(v) && Math.abs(Number(v)) <= 2_147_483_647;
    case 'uuid':
      return UUID.test(v);
    case 'text':
      return v.length <= 512 && !v.includes('\u0000');
  }
}

/** The cursor's text form of a key column (timestamps to the microsecond, in UTC). */
function keyText(c: KeyColumn): string {
  return c.type === 'timestamptz'
    ? `to_char(${c.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : `${c.sql}::text`;
}

const badCursor = (message: string) =>
  refuse('VALIDATION_FAILED', `cursor: ${message}`, { errors: [{ path: 'cursor', message }] });

/**
 * One list order: `name` tells cursors of different lists (and orders) apart; `columns` are unique
 * together, all in one direction (so the row comparison is one index range). `nullsLast` spells the
 * ORDER BY as the drizzle-generated `DESC NULLS LAST` indexes are built, which the planner needs to
 * read them in order; a plain ascending index read backwards wants `nullsLast: false`.
 */
export class Keyset {
  readonly orderBy: string;
  /**
   * `ARRAY[…] AS "keysetKey"` (NULL when the key's first column is: the empty page's row of `listSql`):
   * select it with the page's rows; `page()` reads it from the last one.
   */
  readonly keySelect: string;
  /** The key expression alone, for drizzle: ``sql.raw(keyset.keyExpr)``. */
  readonly keyExpr: string;
  readonly name: string;
  readonly columns: readonly KeyColumn[];
  private readonly descending: boolean;

  constructor(
    name: string,
    columns: readonly KeyColumn[],
    options: { direction?: 'ASC' | 'DESC'; nullsLast?: boolean } = {},
  ) {
    this.name = name;
    this.columns = columns;
    this.descending = (options.direction ?? 'DESC') === 'DESC';
    const nulls = this.descending && (options.nullsLast ?? true) ? ' NULLS LAST' : '';
    this.orderBy = columns.map((c) => `${c.sql} ${this.descending ? 'DESC' : 'ASC'}${nulls}`).join(', ');
    const first = columns[0]!.sql;
    this.keyExpr = `CASE WHEN ${first} IS NULL THEN NULL ELSE ARRAY[${columns.map(keyText).join(', ')}] END`;
    this.keySelect = `${this.keyExpr} AS "keysetKey"`;
  }

  /** Resolves `page` / `page_size` / `cursor`; a malformed or foreign cursor is VALIDATION_FAILED. */
  request(query: ListQuery): Outcome<{ request: PageRequest }, 'VALIDATION_FAILED'> {
    const pageSize = query.page_size;
    if (query.cursor === undefined) {
      const offset = ((query.page ?? 1) - 1) * pageSize;
      return { ok: true, request: { pageSize, offset, after: null, position: offset } };
    }
    if (query.page !== undefined) {
      return refuse('VALIDATION_FAILED', 'page and cursor are exclusive: a cursor continues a walk', {
        errors: [{ path: 'page', message: 'not allowed with cursor' }],
      });
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8'));
    } catch {
      return badCursor('not a cursor this list issued');
    }
    const c = decoded as { o?: unknown; k?: unknown; p?: unknown } | null;
    if (typeof c !== 'object' || c === null || c.o !== this.name) {
      return badCursor('not a cursor this list issued (or issued for other filters)');
    }
    const key = c.k;
    if (
      !Array.isArray(key) ||
      key.length !== this.columns.length ||
      !this.columns.every((col, i) => validKeyValue(col.type, key[i])) ||
      typeof c.p !== 'number' ||
      !Number.isSafeInteger(c.p) ||
      c.p < 0 ||
      c.p > MAX_POSITION
    ) {
      return badCursor('malformed cursor');
    }
    return { ok: true, request: { pageSize, offset: 0, after: key as string[], position: c.p } };
  }

  /** `(a, b) < ($n::type, $m::type)` (`>` ascending) for SQL text; `bind` adds a parameter, returns `$n`. */
  after(key: readonly string[], bind: (value: unknown) => string): string {
    const columns = this.columns.map((c) => c.sql).join(', ');
    const values = this.columns.map((c, i) => `${bind(key[i]!)}::${c.type}`).join(', ');
    return `(${columns}) ${this.descending ? '<' : '>'} (${values})`;
  }

  /** The same condition for drizzle's query builder. */
  afterSql(key: readonly string[]): SQL {
    const columns = sql.raw(this.columns.map((c) => c.sql).join(', '));
    const values = sql.join(
      this.columns.map((c, i) => sql`${key[i]!}::${sql.raw(c.type)}`),
      sql`, `,
    );
    return sql`(${columns}) ${sql.raw(this.descending ? '<' : '>')} (${values})`;
  }

  /**
   * A page and the total of its filter in ONE statement: one snapshot, so the two always agree, without
   * a transaction. One row per row of the page (`LIMIT pageSize + 1`), each with `total`; a single row
   * of NULLs but `total` when the page is empty (`split` takes them apart). The page is cut before the
   * joins, so they run for its rows only.
   */
  listSql(parts: ListSqlParts, request: PageRequest, bind: (value: unknown) => string): string {
    const { from, alias, where } = parts;
    const counted =
      parts.countCap === undefined
        ? `SELECT count(*)::int AS n FROM ${from} ${alias} WHERE ${where}`
        : // Counting walks the page's index in its order and stops at the cap.
          `SELECT count(*)::int AS n FROM (
             SELECT 1 FROM ${from} ${alias} WHERE ${where} ORDER BY ${this.orderBy} LIMIT ${bind(parts.countCap + 1)}
           ) capped`;
    const pageWhere = request.after ? `${where} AND ${this.after(request.after, bind)}` : where;
    const page = `(SELECT ${alias}.* FROM ${from} ${alias} WHERE ${pageWhere} ORDER BY ${this.orderBy}
          LIMIT ${bind(request.pageSize + 1)} OFFSET ${bind(request.offset)}) ${alias}`;
    return `WITH counted AS (${counted})
      SELECT counted.n AS "total", ${parts.select}, ${this.keySelect}
      FROM counted LEFT JOIN ${parts.joins ? `(${page} ${parts.joins})` : page} ON true
      ORDER BY ${this.orderBy}`;
  }

  /**
   * A list route's whole read: the query's page request (400 on a bad cursor), `listSql` run with the
   * filter's `params` (the page's own parameters are bound after them), and the page envelope.
   */
  async list<R extends KeyedRow, T>(
    db: Queryable,
    query: ListQuery,
    parts: ListSqlParts,
    params: unknown[],
    toItem: (row: R) => T,
  ): Promise<Outcome<{ page: ListPage<T> }, 'VALIDATION_FAILED'>> {
    const resolved = this.request(query);
    if (!resolved.ok) return resolved;
    const { request } = resolved;
    const bind = (value: unknown) => `$${params.push(value)}`;
    const result = await db.query<R & { total: number }>(this.listSql(parts, request, bind), params);
    const page = Keyset.split(result.rows);
    return { ok: true, page: this.page(request, page.rows, page.total, toItem) };
  }

  /** `listSql`'s rows taken apart: the total, and the page's rows (none when it is empty). */
  static split<R extends KeyedRow>(rows: readonly (R & { total: number })[]): { total: number; rows: R[] } {
    return {
      total: rows[0]?.total ?? 0,
      rows: rows.filter((r) => r.keysetKey !== null).map(({ total: _, ...row }) => row as unknown as R),
    };
  }

  /**
   * The envelope from rows read with `LIMIT pageSize + 1` (the extra row only says there is more):
   * `next_cursor` is the last shown row's key, null on the last page.
   */
  page<R extends KeyedRow, T>(
    request: PageRequest,
    rows: readonly R[],
    total: number,
    toItem: (row: R) => T,
  ): ListPage<T> {
    const shown = rows.slice(0, request.pageSize);
    const last = shown.at(-1);
    const hasMore = rows.length > request.pageSize;
    return {
      data: shown.map(toItem),
      page: Math.floor(request.position / request.pageSize) + 1,
      page_size: request.pageSize,
      total,
      has_more: hasMore,
      next_cursor: hasMore && last ? this.cursor(last.keysetKey, request.position + shown.length) : null,
    };
  }

  private cursor(key: readonly string[], position: number): string {
    return Buffer.from(JSON.stringify({ o: this.name, k: key, p: position })).toString('base64url');
  }
}
