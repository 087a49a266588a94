// When a failed delivery is tried again (api.md: about 5 s, 30 s, 2 min, 10 min, then exponential with
// jitter for at least 24 h, then FAILED). A pure function, so the production schedule is unit-tested.

const EARLY_MS = [5_000, 30_000, 120_000, 600_000];
const LATER_BASE_MS = 30 * 60_000;
const LATER_CAP_MS = 6 * 3_600_000;
/** Retries continue while the delivery is younger than this; a failure after it is final. */
export const RETRY_WINDOW_MS = 24 * 3_600_000;

/**
 * The delay before the next attempt after `failedAttempts` failures (1 = the first attempt failed),
 * `elapsedMs` after the first attempt, or null when the delivery is to be given up. `fixed` replaces
 * the schedule (configuration `WEBHOOK_RETRY_DELAYS_MS`): its delays in order, then give up.
 */
export function nextRetryDelayMs(
  failedAttempts: number,
  elapsedMs: number,
  opts: { fixed?: number[]; random?: () => number } = {},
): number | null {
  if (opts.fixed) return opts.fixed[failedAttempts - 1] ?? null;
  if (elapsedMs >= RETRY_WINDOW_MS) return null;
  const early = EARLY_MS[failedAttempts - 1];
  // ±10 % jitter spreads retries of many deliveries that failed together (a receiver outage).
  const jitter = 0.9 + 0.2 * (opts.random ?? Math.random)();
  if (early !== undefined) return Math.round(early * jitter);
  const k = failedAttempts - 1 - EARLY_MS.length;
  return Math.round(Math.min(LATER_CAP_MS, LATER_BASE_MS * 2 ** k) * jitter);
}
