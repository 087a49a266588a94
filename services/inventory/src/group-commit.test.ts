// Group commit's grouping, with the groups' work held open by the test: the window, the size bound, one
// running group per key, and each item's own result.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit } from './group-commit.ts';

/** A GroupCommit whose groups stay running until the test settles them. */
function controlled(opts: { maxSize: number; windowMs: number }) {
  const groups: { items: string[]; settle: (results: PromiseSettledResult<string>[]) => void }[] = [];
  const commit = new GroupCommit<string, string>({
    ...opts,
    run: (items) =>
      new Promise((settle) => {
        groups.push({ items, settle });
      }),
  });
  const ok = (items: string[]) => items.map((i) => ({ status: 'fulfilled' as const, value: `done ${i}` }));
  return { commit, groups, ok };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GroupCommit', () => {
  it('waits the window for company, then runs one group per key; the next forms while it runs', async () => {
    const { commit, groups, ok } = controlled({ maxSize: 10, windowMs: 5 });
    const a = commit.submit('pool', 'a');
    const b = commit.submit('pool', 'b');
    expect(groups).toHaveLength(0);
    vi.advanceTimersByTime(5);
    expect(groups.map((g) => g.items)).toEqual([['a', 'b']]);
    const c = commit.submit('pool', 'c');
    const d = commit.submit('pool', 'd');
    vi.advanceTimersByTime(50);
    expect(groups).toHaveLength(1); // c and d wait for the running group, not for a window
    groups[0]!.settle(ok(['a', 'b']));
    expect(await Promise.all([a, b])).toEqual(['done a', 'done b']);
    await flush();
    expect(groups.map((g) => g.items)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    groups[1]!.settle(ok(['c', 'd']));
    expect(await Promise.all([c, d])).toEqual(['done c', 'done d']);
  });

  it('starts a full group at once and never runs more than maxSize together', async () => {
    const { commit, groups, ok } = controlled({ maxSize: 3, windowMs: 1000 });
    const all = ['1', '2', '3', '4', '5'].map((i) => commit.submit('pool', i));
    expect(groups.map((g) => g.items)).toEqual([['1', '2', '3']]);
    groups[0]!.settle(ok(['1', '2', '3']));
    await flush();
    expect(groups.map((g) => g.items)).toEqual([
      ['1', '2', '3'],
      ['4', '5'],
    ]);
    groups[1]!.settle(ok(['4', '5']));
    expect(await Promise.all(all)).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
  });

  it('runs groups of different keys side by side', () => {
    const { commit, groups } = controlled({ maxSize: 10, windowMs: 1 });
    void commit.submit('pool-1', 'a');
    void commit.submit('pool-2', 'b');
    vi.advanceTimersByTime(1);
    expect(groups.map((g) => g.items)).toEqual([['a'], ['b']]);
  });

  it("gives each item its own result: one item's failure is not the others'", async () => {
    const { commit, groups } = controlled({ maxSize: 2, windowMs: 1 });
    const a = commit.submit('pool', 'a');
    const b = commit.submit('pool', 'b');
    groups[0]!.settle([
      { status: 'rejected', reason: new Error('b alone failed') },
      { status: 'fulfilled', value: 'done b' },
    ]);
    await expect(a).rejects.toThrow('b alone failed');
    expect(await b).toBe('done b');
  });

  it('a run that throws fails its own group only', async () => {
    let calls = 0;
    const commit = new GroupCommit<string, string>({
      maxSize: 1,
      windowMs: 0,
      run: async (items) => {
        calls++;
        if (calls === 1) throw new Error('lost connection');
        return items.map((i) => ({ status: 'fulfilled' as const, value: i }));
      },
    });
    const a = commit.submit('pool', 'a');
    const b = commit.submit('pool', 'b');
    await expect(a).rejects.toThrow('lost connection');
    expect(await b).toBe('b');
  });

  it('drain starts the groups still in their window and resolves once none is left', async () => {
    const { commit, groups, ok } = controlled({ maxSize: 10, windowMs: 60_000 });
    const a = commit.submit('pool', 'a');
    const drained = commit.drain();
    expect(groups.map((g) => g.items)).toEqual([['a']]);
    let done = false;
    void drained.then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    groups[0]!.settle(ok(['a']));
    await drained;
    expect(await a).toBe('done a');
  });
});
