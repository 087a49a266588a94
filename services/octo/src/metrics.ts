// The OCTO adapter's business series on its /metrics registry: booking requests by operation and
// outcome (`ok`, or the OCTO error code in lower case). The reservations, payments and tickets they
// cause are counted by inventory and issuance like any other; this shows what resellers asked over OCTO.
import { Counter, type Registry } from 'prom-client';

export const OCTO_BOOKING_OPERATIONS = ['create', 'confirm', 'extend', 'cancel'] as const;
export type OctoBookingOperation = (typeof OCTO_BOOKING_OPERATIONS)[number];

export interface OctoMetrics {
  bookingRequests: Counter<'operation' | 'outcome'>;
}

export function createOctoMetrics(registry: Registry): OctoMetrics {
  const bookingRequests = new Counter({
    name: 'octo_booking_requests_total',
    help: 'OCTO booking requests by operation (create, confirm, extend, cancel) and outcome (ok or the OCTO error code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  for (const operation of OCTO_BOOKING_OPERATIONS) bookingRequests.inc({ operation, outcome: 'ok' }, 0);
  return { bookingRequests };
}
