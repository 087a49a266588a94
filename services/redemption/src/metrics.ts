// Redemption's business series on its /metrics registry: every scan's answer, and how long it took.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface RedemptionMetrics {
  /** result: ACCEPTED or the rejection code (ALREADY_REDEEMED, QR_EXPIRED, …). */
  redemptions: Counter<'result'>;
  duration: Histogram<'result'>;
}

export function createRedemptionMetrics(registry: Registry): RedemptionMetrics {
  const redemptions = new Counter({
    name: 'redemption_scans_total',
    help: 'Scans by result: ACCEPTED or the rejection code',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['ACCEPTED', 'ALREADY_REDEEMED', 'INVALID_QR', 'QR_EXPIRED'])
    redemptions.inc({ result }, 0);
  const duration = new Histogram({
    name: 'redemption_scan_duration_seconds',
    help: 'Time to decide a scan, by result (the gate waits for it)',
    labelNames: ['result'] as const,
    buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { redemptions, duration };
}
