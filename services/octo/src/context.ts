// What the OCTO adapter's handlers share: the booking translation's dependencies (its table, the
// commands of inventory and issuance, the venue's time zone and the default hold).
import type { BookingDeps } from './domain/bookings.ts';

export interface OctoContext {
  deps: BookingDeps;
}
