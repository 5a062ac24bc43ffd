// Runs tasks one at a time per key (a sender), in submission order, while tasks of different
// keys run concurrently. This is what keeps one sender's stanzas in order when some need a
// Redis lookup and later ones hit the cache. The total number of queued tasks is bounded:
// past the bound, submitters wait for room, which is how backpressure reaches the edge.

interface Lane {
  tail: Promise<void>;
  size: number;
}

export class KeyedSerialQueue {
  private readonly lanes = new Map<string, Lane>();
  private pending = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly maxPending: number,
    private readonly onError: (error: unknown, key: string) => void,
  ) {}

  get size(): number {
    return this.pending;
  }

  /** Resolves when `task` has run (never rejects: task errors go to `onError`). */
  async run(key: string, task: () => Promise<void> | void): Promise<void> {
    while (this.pending >= this.maxPending) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.pending++;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { tail: Promise.resolve(), size: 0 };
      this.lanes.set(key, lane);
    }
    lane.size++;
    const current = lane;
    const done = current.tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.onError(error, key);
      }
    });
    current.tail = done;
    await done;
    this.pending--;
    if (--current.size === 0 && this.lanes.get(key) === current) this.lanes.delete(key);
    this.waiters.shift()?.();
  }

  /** Resolves once every task queued so far has run. */
  async drain(): Promise<void> {
    while (this.pending > 0) {
      await Promise.all([...this.lanes.values()].map((lane) => lane.tail));
    }
  }
}
