// Availability ids and day boundaries in the venue's time zone, across a DST change too.
import { zAvailability } from '@octocloud/types';
import { describe, expect, it } from 'vitest';
import { availabilityIdOf, availabilityOf, dateOfAvailabilityId, daysBetween } from './availability.ts';
import type { CatalogueProduct } from './products.ts';

const product: CatalogueProduct = {
  product_id: 106,
  name: 'Premium',
  currency: 'USD',
  functions: [],
  prices: [{ customer_type: 'adult', weekday: 28800, weekend: 31800 }],
};
const now = new Date('2026-03-01T12:00:00Z');

describe('availability days', () => {
  it("ids are the day's local midnight with the zone's offset, and read back", () => {
    expect(availabilityIdOf('2026-11-28', 'Asia/Shanghai')).toBe('2026-11-28T00:00:00+08:00');
    expect(availabilityIdOf('2026-07-01', 'America/New_York')).toBe('2026-07-01T00:00:00-04:00');
    expect(dateOfAvailabilityId('2026-11-28T00:00:00+08:00', 'Asia/Shanghai')).toBe('2026-11-28');
    expect(() => dateOfAvailabilityId('2026-11-28T00:00:00+01:00', 'Asia/Shanghai')).toThrow();
    expect(() => dateOfAvailabilityId('2026-02-30T00:00:00+08:00', 'Asia/Shanghai')).toThrow();
  });

  it('a DST day is 23 hours long and still one availability', () => {
    const a = availabilityOf('2026-03-29', {
      product,
      pool: { allocated: 100, available: 50 },
      timeZone: 'Europe/London',
      pricing: true,
      now,
    });
    expect(zAvailability.safeParse(a).success).toBe(true);
    expect(a.localDateTimeStart).toBe('2026-03-29T00:00:00+00:00');
    expect(a.localDateTimeEnd).toBe('2026-03-30T00:00:00+01:00');
    expect(a.utcCutoffAt).toBe('2026-03-29T23:00:00.000Z');
    expect(a.unitPricing?.[0]).toMatchObject({ unitId: 'adult', retail: 31800 }); // a Sunday
  });

  it('status follows the pool: SOLD_OUT at 0, LIMITED at 10% or less, CLOSED in the past', () => {
    const at = (available: number, date = '2026-03-10') =>
      availabilityOf(date, {
        product,
        pool: { allocated: 100, available },
        timeZone: 'UTC',
        pricing: false,
        now,
      }).status;
    expect(at(0)).toBe('SOLD_OUT');
    expect(at(10)).toBe('LIMITED');
    expect(at(11)).toBe('AVAILABLE');
    expect(at(50, '2026-02-28')).toBe('CLOSED');
  });

  it('date ranges are checked', () => {
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual([
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
    expect(() => daysBetween('2026-01-02', '2026-01-01')).toThrow();
    expect(() => daysBetween('0000-01-01', '2026-01-01')).toThrow();
    expect(() => daysBetween('2026-01-01', '2027-06-01')).toThrow();
  });
});
