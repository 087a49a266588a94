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

export type DayType = 'weekday' | 'weekend';

/** Saturday and Sunday are weekend; a calendar date has the same weekday everywhere. */
export function dayTypeOf(date: string): DayType {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 || day === 6 ? 'weekend' : 'weekday';
}

export function isValidDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(date);
}
