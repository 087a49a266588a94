// The production retry schedule as a pure function: early retries near 5 s, 30 s, 2 min, 10 min,
// then exponential with jitter, for at least 24 h, then give up.
import { describe, expect, it } from 'vitest';
import { nextRetryDelayMs, RETRY_WINDOW_MS } from './retry-schedule.ts';

/** Every delay of one delivery that always fails, with a given jitter source. */
function schedule(random: () => number): number[] {
  const delays: number[] = [];
  let elapsed = 0;
  for (let failed = 1; ; failed++) {
    const d = nextRetryDelayMs(failed, elapsed, { random });
    if (d === null) return delays;
    delays.push(d);
    elapsed += d;
  }
}

describe('nextRetryDelayMs', () => {
  it('retries early at about 5 s, 30 s, 2 min and 10 min', () => {
    const mid = schedule(() => 0.5);
    expect(mid.slice(0, 4)).toEqual([5_000, 30_000, 120_000, 600_000]);
    for (const random of [() => 0, () => 0.999]) {
      const early = schedule(random).slice(0, 4);
      [5_000, 30_000, 120_000, 600_000].forEach((base, i) => {
        expect(early[i]).toBeGreaterThanOrEqual(base * 0.9);
        expect(early[i]).toBeLessThanOrEqual(base * 1.1);
      });
    }
  });

  it('then backs off exponentially, capped, with jitter', () => {
    const later = schedule(() => 0.5).slice(4);
    expect(later.slice(0, 5)).toEqual([1_800_000, 3_600_000, 7_200_000, 14_400_000, 21_600_000]);
    expect(Math.max(...later)).toBe(21_600_000);
    const low = schedule(() => 0).slice(4, 6);
    const high = schedule(() => 0.999).slice(4, 6);
    expect(low[0]).toBeLessThan(high[0]!);
  });

  it('keeps retrying for at least 24 h whatever the jitter, then gives up', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999, Math.random]) {
      const delays = schedule(random);
      const total = delays.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
      // The last retry was scheduled inside the window: no retry starts long after it.
      expect(total - delays.at(-1)!).toBeLessThan(RETRY_WINDOW_MS);
    }
    expect(nextRetryDelayMs(3, RETRY_WINDOW_MS)).toBeNull();
  });

  it('a configured schedule replaces it: its delays in order, then give up', () => {
    const fixed = [100, 200];
    expect(nextRetryDelayMs(1, 0, { fixed })).toBe(100);
    expect(nextRetryDelayMs(2, 100, { fixed })).toBe(200);
    expect(nextRetryDelayMs(3, 300, { fixed })).toBeNull();
  });
});
