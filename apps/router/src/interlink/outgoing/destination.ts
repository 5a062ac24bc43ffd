// Everything this node keeps to send to one destination: a datacenter (any of its nodes), or one
// node of a datacenter. Holds a pool per endpoint, refreshes the endpoint list on a timer,
// binds each sender to one connection, and holds sends while no endpoint is known.
import type { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { EndpointSource } from '../endpoint-source';
import { Fifo } from '../fifo';
import { InterlinkSendError } from '../interlink-errors';
import type { InterlinkOptions } from '../interlink-options';
import type { LinkSettings } from '../link-settings';
import { EndpointPool, endpointKey, type PoolEndpoint } from './endpoint-pool';
import type { QueuedFrame } from './frame-queue';
import { nextRefreshDelayMs, planRefresh, poolsToCollect } from './pool-plan';
import { hashKey, pickSlot } from './sender-binding';

export interface DestinationDeps {
  readonly source: EndpointSource;
  readonly settings: () => LinkSettings;
  readonly options: InterlinkOptions;
  /** This node, left out when a datacenter-wide destination is our own datacenter. */
  readonly self: { readonly localHost: string; readonly node: string };
  readonly createPool: (destination: Destination, endpoint: PoolEndpoint) => EndpointPool;
  /** Frames no link could take: given back so that the router routes or answers them. */
  readonly undeliverable: (frames: QueuedFrame[]) => void;
  readonly logger: Logger;
}

interface EndpointWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Destination {
  /** Active and disabled pools by endpoint key. */
  private readonly pools = new Map<string, EndpointPool>();
  /** Pools draining before they close (rebuilt or collected). */
  private readonly retiring = new Set<EndpointPool>();
  /** Active pools by key order, and their key hashes, for binding. */
  private active: EndpointPool[] = [];
  private activeHashes: number[] = [];
  private readonly waiters = new Fifo<EndpointWaiter>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private sourceFailing = false;
  private closed = false;
  private onDrained: (() => void) | null = null;
  /** Set by each send; cleared by the GC, which drops destinations unused for a whole round. */
  private used = true;

  constructor(
    readonly localHost: string,
    readonly node: string | null,
    private readonly deps: DestinationDeps,
  ) {}

  get label(): string {
    return this.node === null ? this.localHost : `${this.localHost}/${this.node}`;
  }

  /** Endpoint keys of the pools, by state, for tests and diagnostics. */
  get poolKeys(): { active: string[]; disabled: string[]; retiring: number } {
    const disabled = [...this.pools.values()].filter((pool) => pool.state === 'disabled');
    return {
      active: this.active.map((pool) => pool.key),
      disabled: disabled.map((pool) => pool.key),
      retiring: this.retiring.size,
    };
  }

  /** Queue occupancy and connections over every pool, for tests and diagnostics. */
  get queued(): {
    queuedFrames: number;
    unackedFrames: number;
    waitingSends: number;
    connections: number;
  } {
    let queuedFrames = 0;
    let unackedFrames = 0;
    let waitingSends = 0;
    let connections = 0;
    for (const pool of [...this.pools.values(), ...this.retiring]) {
      const stats = pool.stats;
      queuedFrames += stats.frames;
      unackedFrames += stats.unacked;
      waitingSends += stats.waiting;
      connections += pool.openConnections;
    }
    return { queuedFrames, unackedFrames, waitingSends, connections };
  }

  start(): void {
    void this.refresh();
  }

  /**
   * Queues the frame on the sender's connection. Synchronous up to the queue when an endpoint
   * is known, so a sender's frames are queued in call order.
   */
  send(frame: QueuedFrame, deadline: number): Promise<void> {
    this.used = true;
    if (this.closed)
      return Promise.reject(new InterlinkSendError('closed', 'the interlink is closing'));
    if (this.active.length > 0) return this.enqueue(frame, deadline);
    return this.sendOnceEndpointKnown(frame, deadline);
  }

  /** Reads the endpoints now (coalesced with a read in progress). */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.refreshing = this.readAndApply().finally(() => {
      this.refreshing = null;
      this.scheduleRefresh();
    });
    return this.refreshing;
  }

  /** Intervals changed: take the new ones from the next refresh on. */
  reschedule(): void {
    if (this.refreshing) return;
    this.scheduleRefresh();
  }

  /** Pool settings changed: replace each pool; the old ones drain, then close. */
  rebuild(): void {
    const old = [...this.pools];
    for (const [key, pool] of old) {
      if (pool.state === 'active') this.pools.set(key, this.deps.createPool(this, pool.endpoint));
      else this.pools.delete(key);
    }
    // The new pools take traffic before the old ones retire: a retiring connection whose link
    // is down hands its frames back at once, and they must land on a new pool, not an old one.
    this.updateActive();
    for (const [, pool] of old) this.retirePool(pool);
  }

  /**
   * Closes the disabled pools (draining busy ones first). Returns true when the destination
   * itself can go: no pool, no waiting send, and no send since the previous round.
   */
  collectGarbage(): boolean {
    const { idle, busy } = poolsToCollect(this.pools);
    for (const key of [...idle, ...busy]) {
      const pool = this.pools.get(key)!;
      this.pools.delete(key);
      this.retirePool(pool);
    }
    if (idle.length + busy.length > 0) {
      this.deps.logger.log(
        { destination: this.label, closed: idle.join(' '), draining: busy.join(' ') },
        'interlink pools of vanished endpoints collected',
      );
    }
    const removable =
      !this.used && this.pools.size === 0 && this.retiring.size === 0 && this.waiters.length === 0;
    this.used = false;
    return removable;
  }

  /**
   * Frames a retired connection could not write: send them again on the current pools. Those
   * no current link takes (the node died and has no other endpoint) go back to the router,
   * which routes them again or answers their senders: never dropped in silence.
   */
  resubmit(frames: QueuedFrame[]): void {
    if (this.node !== null && this.active.length === 0) {
      // The node is gone (no endpoint left): waiting sendTimeoutMs for it to come back would
      // only hold its frames from the router, which can reach the recipients elsewhere.
      this.deps.logger.warn(
        { destination: this.label, frames: frames.length },
        'frames for a node that is gone handed back for routing',
      );
      this.deps.undeliverable(frames);
      return;
    }
    const deadline = performance.now() + this.deps.options.sendTimeoutMs;
    const refused: QueuedFrame[] = [];
    let settled = 0;
    const done = () => {
      if (++settled === frames.length && refused.length > 0) {
        this.deps.logger.warn(
          { destination: this.label, frames: refused.length },
          'frames of a retired interlink handed back for routing: no current link took them',
        );
        this.deps.undeliverable(refused);
      }
    };
    for (const frame of frames) {
      this.send(frame, deadline).then(done, () => {
        refused.push(frame);
        done();
      });
    }
  }

  /** Stops taking sends, drains every pool; resolves once all are closed. */
  close(): Promise<void> {
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    for (const waiter of this.waiters.drain()) {
      clearTimeout(waiter.timer);
      waiter.reject(new InterlinkSendError('closed', 'the interlink is closing'));
    }
    for (const pool of this.pools.values()) this.retirePool(pool);
    this.pools.clear();
    this.updateActive();
    if (this.retiring.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onDrained = resolve;
    });
  }

  /** Closes every connection now; returns how many queued frames were dropped. */
  destroy(): number {
    let dropped = 0;
    for (const pool of [...this.pools.values(), ...this.retiring]) dropped += pool.destroy().length;
    return dropped;
  }

  private enqueue(frame: QueuedFrame, deadline: number): Promise<void> {
    const senderHash = hashKey(frame.senderKey);
    const slot = pickSlot(senderHash, this.activeHashes, this.poolSize());
    const pool = this.active[slot.endpoint];
    const connection = pool.usableConnection(slot.connection % pool.size);
    if (!connection.unreachable) return connection.enqueue(frame, deadline);
    // Its endpoint cannot be reached: the sender goes to another one while that lasts (or the
    // connection refuses the frame with 'unreachable' when none is left).
    const reachable = this.active.filter((candidate) => !candidate.unreachable);
    if (reachable.length === 0) return connection.enqueue(frame, deadline);
    const hashes = reachable.map((candidate) => hashKey(candidate.key));
    const other = pickSlot(senderHash, hashes, pool.size);
    const fallback = reachable[other.endpoint];
    return fallback.usableConnection(other.connection % fallback.size).enqueue(frame, deadline);
  }

  private poolSize(): number {
    return this.active[0]?.size ?? 1;
  }

  private async sendOnceEndpointKnown(frame: QueuedFrame, deadline: number): Promise<void> {
    while (this.active.length === 0) {
      if (this.closed) throw new InterlinkSendError('closed', 'the interlink is closing');
      await this.waitForEndpoint(deadline);
    }
    // Waiters wake in FIFO order and reach this line in that order: call order is kept.
    return this.enqueue(frame, deadline);
  }

  private waitForEndpoint(deadline: number): Promise<void> {
    const wait = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiters.removeWhere((waiter) => waiter.timer === timer);
          reject(
            new InterlinkSendError(
              'no-endpoint',
              `no endpoint of ${this.label} known within the send timeout`,
            ),
          );
        },
        Math.max(0, deadline - performance.now()),
      ).unref();
      this.waiters.push({ resolve, reject, timer });
    });
    // Look now, and keep looking at the waiting pace, instead of at the next clean-start tick.
    if (!this.refreshing) void this.refresh();
    return wait;
  }

  private async readAndApply(): Promise<void> {
    let endpoints: PoolEndpoint[];
    try {
      endpoints = await this.readEndpoints();
    } catch (err) {
      if (!this.sourceFailing) {
        this.deps.logger.warn(
          { destination: this.label, error: (err as Error).message },
          'cannot read interlink endpoints; keeping the current ones',
        );
      }
      this.sourceFailing = true;
      return;
    }
    if (this.sourceFailing) {
      this.deps.logger.log({ destination: this.label }, 'interlink endpoints readable again');
    }
    this.sourceFailing = false;
    if (!this.closed) this.apply(endpoints);
  }

  private async readEndpoints(): Promise<PoolEndpoint[]> {
    const { source, self } = this.deps;
    if (this.node !== null) {
      const endpoints = await source.endpointsOfNode(this.localHost, this.node);
      return endpoints.map(({ host, port }) => ({ host, port, node: this.node! }));
    }
    const overrides = this.deps.settings().endpointOverrides[this.localHost];
    if (overrides && overrides.length > 0)
      return overrides.map(({ host, port }) => ({ host, port }));
    const endpoints = await source.endpointsOf(this.localHost);
    return endpoints.filter(
      (endpoint) => !(this.localHost === self.localHost && endpoint.node === self.node),
    );
  }

  private apply(endpoints: PoolEndpoint[]): void {
    const byKey = new Map(endpoints.map((endpoint) => [endpointKey(endpoint), endpoint]));
    const plan = planRefresh(this.pools, byKey.keys());
    for (const key of plan.open) this.pools.set(key, this.deps.createPool(this, byKey.get(key)!));
    for (const key of plan.enable) this.pools.get(key)!.enable();
    const goneDown: EndpointPool[] = [];
    for (const key of plan.disable) {
      const pool = this.pools.get(key)!;
      pool.disable();
      // A vanished endpoint whose links are down (its node stopped or died) has nobody to
      // write its queue to: retired now (after the active set is updated), its frames go to
      // the current pools or back to the router at once rather than at the next GC round.
      if (!pool.linkUp && !pool.idle) {
        this.pools.delete(key);
        goneDown.push(pool);
      }
    }
    if (plan.open.length + plan.enable.length + plan.disable.length > 0) {
      this.updateActive();
      this.deps.logger.log(
        {
          destination: this.label,
          added: [...plan.open, ...plan.enable].join(' '),
          disabled: plan.disable.join(' '),
          active: this.active.length,
        },
        'interlink endpoints changed',
      );
    }
    for (const pool of goneDown) this.retirePool(pool);
    if (this.active.length > 0) {
      for (const waiter of this.waiters.drain()) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
    }
  }

  private updateActive(): void {
    this.active = [...this.pools.values()]
      .filter((pool) => pool.state === 'active')
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.activeHashes = this.active.map((pool) => hashKey(pool.key));
  }

  private retirePool(pool: EndpointPool): void {
    this.retiring.add(pool);
    pool.retire(() => {
      this.retiring.delete(pool);
      if (this.closed && this.retiring.size === 0) {
        const drained = this.onDrained;
        this.onDrained = null;
        drained?.();
      }
    });
  }

  private scheduleRefresh(): void {
    if (this.closed) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const settings = this.deps.settings();
    const delay = nextRefreshDelayMs(this.active.length, this.waiters.length > 0, {
      refreshIntervalMs: settings.refreshIntervalMs,
      cleanStartRefreshIntervalMs: settings.cleanStartRefreshIntervalMs,
      waitingPollMs: this.deps.options.endpointWaitPollMs,
    });
    this.refreshTimer = setTimeout(() => void this.refresh(), delay).unref();
  }
}
