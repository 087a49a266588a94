// Waiting with a bound: for work that must not hold up a scrape or a shutdown when a dependency never
// answers (Redis down, a connection stuck reconnecting).

/**
 * `work`'s value, or undefined when it failed or took longer than `ms`: never throws, never waits past
 * the bound (the work itself goes on; its result is dropped).
 */
export async function settleWithin<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
