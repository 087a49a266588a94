// Group commit in one process: work items with the same key (holds on one pool) are collected and handed
// to `run` together. At most one group per key is running; while it commits, the next one forms and
// starts as soon as it is done. A group is at most `maxSize` items, and when nothing of its key is
// running its first item waits at most `windowMs` for company. Nothing here is needed for correctness:
// `run` does the work in the database as if the items had come one after the other.

export interface GroupCommitOptions<T, R> {
  maxSize: number;
  windowMs: number;
  /** Does a group's work; one settled result per item, in the items' order. */
  run: (items: T[]) => Promise<PromiseSettledResult<R>[]>;
}

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
}

interface Lane<T, R> {
  waiting: Waiting<T, R>[];
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class GroupCommit<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();
  private readonly opts: GroupCommitOptions<T, R>;

  constructor(opts: GroupCommitOptions<T, R>) {
    if (opts.maxSize < 1) throw new Error('a group holds at least one item');
    this.opts = opts;
  }

  submit(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = { waiting: [], running: undefined, timer: undefined };
        this.lanes.set(key, lane);
      }
      lane.waiting.push({ item, resolve, reject });
      if (lane.running) return; // it joins the group that starts when the running one is done
      if (lane.waiting.length >= this.opts.maxSize) this.start(key, lane);
      else lane.timer ??= setTimeout(() => this.start(key, lane), this.opts.windowMs);
    });
  }

  private start(key: string, lane: Lane<T, R>): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const group = lane.waiting.splice(0, this.opts.maxSize);
    lane.running = this.runGroup(group).finally(() => {
      lane.running = undefined;
      if (lane.waiting.length > 0) this.start(key, lane);
      else this.lanes.delete(key);
    });
  }

  private async runGroup(group: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.opts.run(group.map((w) => w.item));
      group.forEach((w, i) => {
        const result = results[i];
        if (result?.status === 'fulfilled') w.resolve(result.value);
        else w.reject(result ? result.reason : new Error('the group gave no result for this item'));
      });
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  }

  /** Starts every group still waiting for its window and resolves when no group is left. */
  async drain(): Promise<void> {
    while (this.lanes.size > 0) {
      for (const [key, lane] of this.lanes) if (!lane.running) this.start(key, lane);
      await Promise.all([...this.lanes.values()].map((lane) => lane.running));
    }
  }
}
