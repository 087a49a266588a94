import { describe, expect, it } from 'vitest';
import { Keyset } from './keyset.ts';

const order = new Keyset('things', [
  { sql: 'x.created_at', type: 'timestamptz' },
  { sql: 'x.id', type: 'bigint' },
]);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const keyed = (created: string, id: string) => ({ keysetKey: [created, id], id });

describe('Keyset', () => {
  it('an offset page: page and page_size as before, no cursor condition', () => {
    expect(order.request({ page: 3, page_size: 20 })).toEqual({
      ok: true,
      request: { pageSize: 20, offset: 40, after: null, position: 40 },
    });
    expect(order.request({ page_size: 20 })).toMatchObject({ ok: true, request: { offset: 0 } });
  });

  it('next_cursor is the last shown row’s key; null on the last page; page counts the walk', () => {
    const request = { pageSize: 2, offset: 0, after: null, position: 4 };
    const rows = [
      keyed('2026-11-24T10:00:00.000003Z', '9'),
      keyed('2026-11-24T10:00:00.000002Z', '8'),
      keyed('2026-11-24T10:00:00.000001Z', '7'),
    ];
    const page = order.page(request, rows, 10, (r) => r.id);
    expect(page).toMatchObject({ data: ['9', '8'], page: 3, page_size: 2, total: 10, has_more: true });
    const next = order.request({ page_size: 2, cursor: page.next_cursor! });
    expect(next).toEqual({
      ok: true,
      request: { pageSize: 2, offset: 0, after: ['2026-11-24T10:00:00.000002Z', '8'], position: 6 },
    });
    expect(order.page(request, rows.slice(0, 2), 6, (r) => r.id)).toMatchObject({
      has_more: false,
      next_cursor: null,
    });
  });

  it('refuses page with cursor, and every cursor it did not issue, as VALIDATION_FAILED', () => {
    const good = { o: 'things', k: ['2026-11-24T10:00:00.000001Z', '7'], p: 50 };
    expect(order.request({ page_size: 5, cursor: encode(good) }).ok).toBe(true);
    expect(order.request({ page: 2, page_size: 5, cursor: encode(good) })).toMatchObject({
      ok: false,
      code: 'VALIDATION_FAILED',
      extensions: { errors: [{ path: 'page' }] },
    });
    const bad = [
      'not-base64-json',
      encode('a string'),
      encode(null),
      encode({ ...good, o: 'other-list' }),
      encode({ ...good, k: ['2026-11-24T10:00:00.000001Z'] }),
      encode({ ...good, k: ['2026-02-30T10:00:00.000001Z', '7'] }),
      encode({ ...good, k: ['2026-11-24 10:00', '7'] }),
      encode({ ...good, k: ['2026-11-24T10:00:00.000001Z', '7; DROP TABLE x'] }),
      encode({ ...good, k: ['2026-11-24T10:00:00.000001Z', '99999999999999999999'] }),
      encode({ ...good, k: ['2026-11-24T10:00:00.000001Z', 7] }),
      encode({ ...good, p: -1 }),
      encode({ ...good, p: 1.5 }),
      encode({ ...good, p: '50' }),
    ];
    for (const cursor of bad) {
      expect(order.request({ page_size: 5, cursor }), cursor).toMatchObject({
        ok: false,
        code: 'VALIDATION_FAILED',
        extensions: { errors: [{ path: 'cursor' }] },
      });
    }
  });

  it('builds the row comparison in the order’s direction, values bound as parameters', () => {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    expect(order.after(['2026-11-24T10:00:00.000001Z', '7'], bind)).toBe(
      '(x.created_at, x.id) < ($1::timestamptz, $2::bigint)',
    );
    expect(params).toEqual(['2026-11-24T10:00:00.000001Z', '7']);
    const oldestFirst = new Keyset('asc', [{ sql: 'ref', type: 'text' }], { direction: 'ASC' });
    expect(oldestFirst.after(['a'], () => '$9')).toBe('(ref) > ($9::text)');
    expect(oldestFirst.orderBy).toBe('ref ASC');
    expect(order.orderBy).toBe('x.created_at DESC NULLS LAST, x.id DESC NULLS LAST');
  });
});
