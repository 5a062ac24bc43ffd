// Work that arrives in one turn of the event loop, done together: callers add items and get a
// promise; on the next turn (setImmediate) the whole batch goes to one call of `run`, and every
// caller's promise settles as that call does. Used where each item would otherwise cost its own
// system call (a Redis pipeline per login, a pub/sub notice per session change).
export class TickBatcher<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];

  /** `maxBatch` bounds one call of `run`; a bigger batch is split, in order. */
  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    private readonly maxBatch = 1_000,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** Items waiting for the next turn. */
  get size(): number {
    return this.pending.length;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    for (let start = 0; start < batch.length; start += this.maxBatch) {
      const slice = batch.slice(start, start + this.maxBatch);
      try {
        await this.run(slice.map((entry) => entry.item));
        for (const entry of slice) entry.resolve();
      } catch (error) {
        for (const entry of slice) entry.reject(error);
      }
    }
  }
}
