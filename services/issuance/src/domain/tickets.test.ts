import { filterInstant, type PageRequest } from '@cruise/shared';
import { describe, expect, it } from 'vitest';
import { TICKETS_NEWEST_FIRST, TOTAL_COUNT_CAP, ticketListSql } from './tickets.ts';

const partner = '11111111-1111-4111-8111-111111111111';
const firstPage: PageRequest = { pageSize: 50, offset: 0, after: null, position: 0 };

describe('ticket list query', () => {
  it('a date filter means 00:00 UTC of that day; a date-time is normalised to UTC', () => {
    expect(filterInstant('2026-11-24').toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(filterInstant('2026-11-24T08:00:00+08:00').toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('always scopes by the caller and binds every filter as a parameter', () => {
    const q = ticketListSql(
      partner,
      {
        page: 3,
        page_size: 20,
        status: 'ACTIVE',
        product_id: 106,
        created_from: '2026-11-01',
        created_to: '2026-11-02',
        reseller_id: "x' OR 1=1 --",
      },
      { pageSize: 20, offset: 40, after: null, position: 40 },
    );
    // The page and the capped count are both scoped (one statement, two scans of tickets).
    expect(q.text.match(/t\.partner_id = \$1/g)).toHaveLength(2);
    expect(q.text).not.toContain('OR 1=1');
    expect(q.values).toEqual([
      partner,
      'ACTIVE',
      "x' OR 1=1 --",
      106,
      '2026-11-01T00:00:00.000Z',
      '2026-11-02T00:00:00.000Z',
      TOTAL_COUNT_CAP + 1,
      21,
      40,
    ]);
  });

  it('continues after a cursor with the key bound as parameters, the partner filter kept', () => {
    const q = ticketListSql(
      partner,
      { page_size: 50 },
      { pageSize: 50, offset: 0, after: ['2026-11-24T00:00:00.123456Z', '42'], position: 50 },
    );
    expect(q.text).toContain('(t.created_at, t.id) < ($3::timestamptz, $4::bigint)');
    expect(q.text.match(/t\.partner_id = \$1/g)).toHaveLength(2);
    expect(q.values).toEqual([partner, TOTAL_COUNT_CAP + 1, '2026-11-24T00:00:00.123456Z', '42', 51, 0]);
  });

  it('orders newest first, or by batch sequence within a batch', () => {
    expect(ticketListSql(partner, { page_size: 50 }, firstPage).text).toContain(
      `ORDER BY ${TICKETS_NEWEST_FIRST.orderBy}`,
    );
    expect(TICKETS_NEWEST_FIRST.orderBy).toBe('t.created_at DESC NULLS LAST, t.id DESC NULLS LAST');
    const batch = ticketListSql(partner, { page_size: 50, batch_id: partner }, firstPage);
    expect(batch.text).toContain('ORDER BY t.batch_seq DESC');
    expect(batch.text).not.toContain('t.batch_seq DESC NULLS LAST');
  });
});
