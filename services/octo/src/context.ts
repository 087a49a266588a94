// What the OCTO adapter's handlers share: the booking translation's dependencies (its table, the
// commands of inventory and issuance, the venue's time zone and the default hold).
import type { BookingDeps } from './domain/bookings.ts';
import type { OctoMetrics } from './metrics.ts';

export interface OctoContext {
  deps: BookingDeps;
  /** Booking requests by operation and outcome (/metrics). */
  metrics: OctoMetrics;
}
