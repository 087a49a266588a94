import { expect, it } from 'vitest';
import { periodBounds } from './reports.ts';

it('a report period covers whole UTC days, both ends included', () => {
  expect(periodBounds('2026-11-24', '2026-11-24')).toEqual([
    '2026-11-24T00:00:00.000Z',
    '2026-11-25T00:00:00.000Z',
  ]);
  expect(periodBounds('2026-12-31', '2027-01-01')).toEqual([
    '2026-12-31T00:00:00.000Z',
    '2027-01-02T00:00:00.000Z',
  ]);
  expect(periodBounds('2028-02-28', '2028-02-28')[1]).toBe('2028-02-29T00:00:00.000Z');
});
