import { filterInstant } from '@cruise/shared';
import { describe, expect, it } from 'vitest';
import { TOTAL_COUNT_CAP, ticketListSql } from './tickets.ts';

const partner = '11111111-1111-4111-8111-111111111111';

describe('ticket list query', () => {
  it('a date filter means 00:00 UTC of that day; a date-time is normalised to UTC', () => {
    expect(filterInstant('2026-11-24').toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(filterInstant('2026-11-24T08:00:00+08:00').toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('always scopes by the caller and binds every filter as a parameter', () => {
    const q = ticketListSql(partner, {
      page: 3,
      page_size: 20,
      status: 'ACTIVE',
      product_id: 106,
      created_from: '2026-11-01',
      created_to: '2026-11-02',
      reseller_id: "x' OR 1=1 --",
    });
    expect(q.page.text).toContain('t.partner_id = $1');
    expect(q.count.text).toContain('t.partner_id = $1');
    expect(q.page.text).not.toContain('OR 1=1');
    expect(q.page.values).toEqual([
      partner,
      'ACTIVE',
      "x' OR 1=1 --",
      106,
      '2026-11-01T00:00:00.000Z',
      '2026-11-02T00:00:00.000Z',
      21,
      40,
    ]);
    expect(q.count.values.at(-1)).toBe(TOTAL_COUNT_CAP + 1);
  });

  it('orders newest first, or by batch sequence within a batch', () => {
    expect(ticketListSql(partner, { page: 1, page_size: 50 }).page.text).toContain(
      't.created_at DESC NULLS LAST, t.id DESC NULLS LAST',
    );
    const batch = ticketListSql(partner, { page: 1, page_size: 50, batch_id: partner });
    expect(batch.page.text).toContain('ORDER BY t.batch_seq DESC');
  });
});
