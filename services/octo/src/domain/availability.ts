// Availability in OCTO's words: one all-day (OPENING_HOURS) availability per day in the venue's time
// zone. Vacancies are the caller's ota pool as inventory reports it (the pool is not per day), so the
// status can never disagree with what a booking would get: SOLD_OUT at 0, LIMITED at 10% or less of
// the pool's allocation, AVAILABLE above, CLOSED for days already past.
import { dayTypeOf, isValidDate, venueDate } from '@cruise/shared';
import type { zAvailability, zAvailabilityCalendar, zPricingUnit } from '@octocloud/types';
import { badRequest, OctoError } from './octo-errors.ts';
import { type CatalogueProduct, MAX_UNITS, pricingOf } from './products.ts';

export type OctoAvailability = ReturnType<typeof zAvailability.parse>;
export type OctoCalendarDay = ReturnType<typeof zAvailabilityCalendar.parse>;
type PricingUnit = ReturnType<typeof zPricingUnit.parse>;

export interface PoolState {
  allocated: number;
  available: number;
}

/** The contract's date range (api.md Conventions), so no date beyond it reaches a query. */
const MIN_DATE = '1900-01-01';
const MAX_DATE = '2999-12-31';
/** OCTO's own limit on one availability request. */
const MAX_DAYS = 366;
const OPENING_HOURS = [{ from: '00:00', to: '23:59' }];

/** `+08:00` for the zone's offset at `at`. */
function offsetAt(at: Date, timeZone: string): string {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
  return m ? `${m[1]}:${m[2] ?? '00'}` : '+00:00';
}

const offsetMinutes = (offset: string) =>
  (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));

/** Local midnight of `date` in the zone: its ISO form with offset and the UTC instant. */
function localMidnight(date: string, timeZone: string): { local: string; utc: Date } {
  const naive = new Date(`${date}T00:00:00.000Z`);
  let offset = offsetAt(naive, timeZone);
  let utc = new Date(naive.getTime() - offsetMinutes(offset) * 60_000);
  // Across a DST change the offset at the real instant may differ from the first guess.
  const real = offsetAt(utc, timeZone);
  if (real !== offset) {
    offset = real;
    utc = new Date(naive.getTime() - offsetMinutes(offset) * 60_000);
  }
  return { local: `${date}T00:00:00${offset}`, utc };
}

export function nextDate(date: string): string {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The availability id of a day: its local start, as OCTO's examples use. */
export const availabilityIdOf = (date: string, timeZone: string) => localMidnight(date, timeZone).local;

/** The day an availability id names, or INVALID_AVAILABILITY_ID. */
export function dateOfAvailabilityId(id: unknown, timeZone: string): string {
  const date = typeof id === 'string' ? id.slice(0, 10) : '';
  if (
    typeof id !== 'string' ||
    !isValidDate(date) ||
    date < MIN_DATE ||
    date > MAX_DATE ||
    availabilityIdOf(date, timeZone) !== id
  ) {
    throw new OctoError(
      'INVALID_AVAILABILITY_ID',
      'The availabilityId was missing or invalid',
      String(id ?? ''),
    );
  }
  return date;
}

/** The days from..to (both included), checked: valid dates in range, in order, at most a year. */
export function daysBetween(from: unknown, to: unknown): string[] {
  for (const [name, value] of [
    ['localDateStart', from],
    ['localDateEnd', to],
  ] as const) {
    if (typeof value !== 'string' || !isValidDate(value) || value < MIN_DATE || value > MAX_DATE) {
      throw badRequest(`${name} must be a date YYYY-MM-DD between ${MIN_DATE} and ${MAX_DATE}`);
    }
  }
  if ((to as string) < (from as string)) throw badRequest('localDateEnd is before localDateStart');
  const days: string[] = [];
  for (let d = from as string; d <= (to as string); d = nextDate(d)) {
    days.push(d);
    if (days.length > MAX_DAYS) throw badRequest('cannot request more than 1 year of availability');
  }
  return days;
}

/** Units asked for in an availability request: known unit ids and positive quantities. */
export function requestedUnits(
  product: CatalogueProduct,
  units: { id: string; quantity: number }[] | undefined,
): number {
  let total = 0;
  for (const unit of units ?? []) {
    if (!product.prices.some((p) => p.customer_type === unit.id)) {
      throw new OctoError('INVALID_UNIT_ID', 'The unitId was missing or invalid', unit.id);
    }
    if (!Number.isInteger(unit.quantity) || unit.quantity < 0) throw badRequest('unit quantity must be >= 0');
    total += unit.quantity;
  }
  return total;
}

interface DayState {
  status: OctoAvailability['status'];
  available: boolean;
  vacancies: number;
}

function dayState(date: string, today: string, pool: PoolState, wanted: number): DayState {
  if (date < today) return { status: 'CLOSED', available: false, vacancies: 0 };
  const vacancies = Math.max(0, pool.available);
  if (vacancies === 0 || wanted > vacancies) return { status: 'SOLD_OUT', available: false, vacancies };
  const limited = vacancies <= pool.allocated * 0.1;
  return { status: limited ? 'LIMITED' : 'AVAILABLE', available: true, vacancies };
}

function unitPricing(product: CatalogueProduct, date: string): PricingUnit[] {
  const weekend = dayTypeOf(date) === 'weekend';
  return product.prices.map((p) => ({
    ...pricingOf(weekend ? p.weekend : p.weekday, product.currency),
    unitId: p.customer_type,
  }));
}

export interface AvailabilityContext {
  product: CatalogueProduct;
  pool: PoolState;
  timeZone: string;
  pricing: boolean;
  /** Units the request asks for (0: none given). */
  wanted?: number;
  now?: Date;
}

export function availabilityOf(date: string, ctx: AvailabilityContext): OctoAvailability {
  const today = venueDate(ctx.now ?? new Date(), ctx.timeZone);
  const state = dayState(date, today, ctx.pool, ctx.wanted ?? 0);
  const start = localMidnight(date, ctx.timeZone);
  const end = localMidnight(nextDate(date), ctx.timeZone);
  return {
    id: start.local,
    localDateTimeStart: start.local,
    localDateTimeEnd: end.local,
    // Sales for a day close when the day ends in the venue's time zone (REST accepts today too).
    utcCutoffAt: end.utc.toISOString(),
    allDay: true,
    available: state.available,
    status: state.status,
    vacancies: state.vacancies,
    capacity: ctx.pool.allocated,
    maxUnits: MAX_UNITS,
    openingHours: OPENING_HOURS,
    ...(ctx.pricing ? { unitPricing: unitPricing(ctx.product, date) } : {}),
  };
}

export function calendarDayOf(date: string, ctx: AvailabilityContext): OctoCalendarDay {
  const today = venueDate(ctx.now ?? new Date(), ctx.timeZone);
  const state = dayState(date, today, ctx.pool, ctx.wanted ?? 0);
  return {
    localDate: date,
    available: state.available,
    status: state.status,
    vacancies: state.vacancies,
    capacity: ctx.pool.allocated,
    openingHours: OPENING_HOURS,
    ...(ctx.pricing ? { unitPricingFrom: unitPricing(ctx.product, date) } : {}),
  };
}
