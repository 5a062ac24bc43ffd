// Runs received stanzas one at a time per sender, in arrival order, while different senders
// proceed concurrently (ARCHITECTURE §6: the receiving node handles each sender's stanzas one
// at a time). Keyed by the frame's sender key, across all incoming links, so a sender whose
// binding moved to another connection still has its stanzas handled in arrival order.
import { Fifo } from '../fifo';

export class SenderSerialExecutor<T> {
  /** Senders with work running; the list holds what waits behind the running item. */
  private readonly lanes = new Map<string, Fifo<T>>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (item: T) => Promise<void>,
    /** Called after each item, whether it succeeded or failed. */
    private readonly settled: (item: T, error: unknown) => void,
  ) {}

  /** Items submitted and not yet settled. */
  get size(): number {
    return this.pending;
  }

  /** Senders with work in progress. */
  get activeSenders(): number {
    return this.lanes.size;
  }

  submit(senderKey: string, item: T): void {
    this.pending++;
    const lane = this.lanes.get(senderKey);
    if (lane) {
      lane.push(item);
      return;
    }
    this.lanes.set(senderKey, new Fifo<T>());
    this.start(senderKey, item);
  }

  /** Resolves once everything submitted so far has settled. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private start(senderKey: string, item: T): void {
    let result: Promise<void>;
    try {
      result = this.run(item);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      () => this.finish(senderKey, item, undefined),
      (error: unknown) => this.finish(senderKey, item, error ?? new Error('rejected')),
    );
  }

  private finish(senderKey: string, item: T, error: unknown): void {
    this.pending--;
    this.settled(item, error);
    const lane = this.lanes.get(senderKey);
    const next = lane?.shift();
    if (next !== undefined) {
      this.start(senderKey, next);
    } else {
      this.lanes.delete(senderKey);
    }
    if (this.pending === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
