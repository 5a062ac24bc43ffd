// The connections from this node to one endpoint of a destination: connectionsPerEndpoint of
// them, each created (and dialled) the first time a sender is bound to it.
import { formatHostPort } from '../../env/router-env';
import type { PoolState, PoolView } from './pool-plan';
import type { OutgoingConnection } from './outgoing-connection';
import type { QueuedFrame } from './frame-queue';

export interface PoolEndpoint {
  readonly host: string;
  readonly port: number;
  /** The remote node, when the source knows it (overrides do not). */
  readonly node?: string;
}

export function endpointKey(endpoint: { host: string; port: number }): string {
  return formatHostPort(endpoint);
}

export type ConnectionFactory = (index: number, onClosed: () => void) => OutgoingConnection;

export class EndpointPool implements PoolView {
  private poolState: PoolState = 'active';
  private readonly connections: (OutgoingConnection | undefined)[];
  private live = 0;
  private onRetired: (() => void) | null = null;
  private retired = false;

  constructor(
    readonly endpoint: PoolEndpoint,
    /** connectionsPerEndpoint when the pool was made; a new value makes a new pool. */
    readonly size: number,
    private readonly createConnection: ConnectionFactory,
  ) {
    this.connections = new Array<OutgoingConnection | undefined>(size);
  }

  get key(): string {
    return endpointKey(this.endpoint);
  }

  get state(): PoolState {
    return this.poolState;
  }

  get idle(): boolean {
    return this.connections.every((connection) => !connection || connection.idle);
  }

  /** Frames queued, written and not acknowledged, and sends waiting, over the connections. */
  get stats(): { frames: number; unacked: number; waiting: number } {
    let frames = 0;
    let unacked = 0;
    let waiting = 0;
    for (const connection of this.connections) {
      if (!connection) continue;
      const queued = connection.queued;
      frames += queued.frames;
      unacked += queued.unacked;
      waiting += queued.waiting;
    }
    return { frames, unacked, waiting };
  }

  /** Some connection has been down for unreachableAfterMs and none is up. */
  get unreachable(): boolean {
    return !this.linkUp && this.connections.some((connection) => connection?.unreachable === true);
  }

  /** Some connection of the pool has its link up. */
  get linkUp(): boolean {
    return this.connections.some((connection) => connection?.connectionState === 'open');
  }

  /** Connections created so far and not closed. */
  get openConnections(): number {
    return this.live;
  }

  /**
   * The connection a sender is bound to, or, while that one is unreachable, a sibling whose
   * link is up (the endpoint is there; that connection is only waiting for its next dial).
   */
  usableConnection(index: number): OutgoingConnection {
    const bound = this.connection(index);
    if (!bound.unreachable) return bound;
    return this.connections.find((each) => each?.connectionState === 'open') ?? bound;
  }

  connection(index: number): OutgoingConnection {
    const existing = this.connections[index];
    if (existing) return existing;
    this.live++;
    const created = this.createConnection(index, () => this.connectionClosed());
    this.connections[index] = created;
    return created;
  }

  /** The endpoint vanished: new traffic avoids the pool; queued frames still go out. */
  disable(): void {
    this.poolState = 'disabled';
  }

  enable(): void {
    this.poolState = 'active';
  }

  /** Drain and close every connection; `onClosed` runs once all are closed. */
  retire(onClosed: () => void): void {
    this.retired = true;
    this.poolState = 'disabled';
    this.onRetired = onClosed;
    if (this.live === 0) {
      this.fireRetired();
      return;
    }
    for (const connection of this.connections) connection?.retire();
  }

  /** Closes every connection now; returns the frames they still held. */
  destroy(): QueuedFrame[] {
    return this.connections.flatMap((connection) => connection?.destroy() ?? []);
  }

  private connectionClosed(): void {
    this.live--;
    if (this.retired && this.live === 0) this.fireRetired();
  }

  private fireRetired(): void {
    const callback = this.onRetired;
    this.onRetired = null;
    callback?.();
  }
}
