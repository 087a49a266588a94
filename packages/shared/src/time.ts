// Business dates: the venue's calendar decides "today" and weekday/weekend, storage is UTC.

/** The calendar date (YYYY-MM-DD) at `at` in the venue's time zone. */
export function venueDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .formatToParts(at)
    .reduce<Record<string, string>>((acc, p) => {
      acc[p.type] = p.value;
      return acc;
    }, {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * A bound of a time filter (`created_from`, `to`, …) as an instant: a bare date (YYYY-MM-DD) means its
 * start at 00:00 UTC; a date-time is taken as given.
 */
export function filterInstant(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value);
}

export type DayType = 'weekday' | 'weekend';

/** Saturday and Sunday are weekend; a calendar date has the same weekday everywhere. */
export function dayTypeOf(date: string): DayType {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 || day === 6 ? 'weekend' : 'weekday';
}

/**
 * The contract's calendar (api.md, "Conventions"): dates and date-times outside it are out of range in
 * every parameter. PostgreSQL refuses some years outside it (0000, beyond 294276) with a 22008.
 */
export const DATE_RANGE = { min: '1900-01-01', max: '2999-12-31' } as const;

/** True when a `YYYY-MM-DD` string lies within DATE_RANGE (compared as text: the format sorts by date). */
export function isDateInRange(date: string): boolean {
  return date >= DATE_RANGE.min && date <= DATE_RANGE.max;
}

/** A real calendar date `YYYY-MM-DD` within DATE_RANGE. */
export function isValidDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !isDateInRange(date)) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(date);
}
