// Timing and size bounds of the links that are not configuration options (yet): defaults for
// production, overridable by tests through INTERLINK_OPTIONS.
import type { BackoffPolicy } from './outgoing/backoff';
import type { QueueLimits } from './outgoing/frame-queue';

export interface InterlinkOptions {
  /**
   * How long send() may wait, in all, for a first endpoint of the destination and for room in
   * the connection queue before it rejects (and the router bounces the stanza).
   */
  readonly sendTimeoutMs: number;
  /** How often a destination without endpoints re-reads them while a send waits. */
  readonly endpointWaitPollMs: number;
  /** An incoming link must send its hello (after the TLS handshake) within this time. */
  readonly helloTimeoutMs: number;
  /**
   * An incoming link that started a frame must finish it within this time of reading (time
   * paused by backpressure does not count), or it is closed: a peer that stalls half-way
   * through a frame would otherwise hold its link, and a buffer of up to one maximal frame,
   * for ever. Idle links between frames are fine (pools stay open while unused).
   */
  readonly frameTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Per outgoing connection. */
  readonly queue: QueueLimits;
  /** Per incoming link: received stanzas not yet handled before the socket is paused. */
  readonly incoming: { readonly maxInFlightFrames: number; readonly maxInFlightBytes: number };
  readonly backoff: BackoffPolicy;
  /** A connection that stayed up this long starts its backoff from the first step again. */
  readonly stableAfterMs: number;
  /**
   * How long a retired connection (pool rebuilt, endpoint gone) may try to write what it has
   * queued; what is left is handed to the destination's current connections.
   */
  readonly drainTimeoutMs: number;
  /** Bound of close(): flushing queues and waiting for handlers. */
  readonly closeTimeoutMs: number;
  /**
   * A connection whose link has been down (lost, or dials failing) this long with frames to
   * send is unreachable: its frames are handed on (other endpoints, or back to the router),
   * and sends bound to it go to another endpoint or fail at once with 'unreachable', so their
   * stanzas bounce instead of waiting for the node's heartbeat to expire.
   */
  readonly unreachableAfterMs: number;
  readonly acks: AckOptions;
}

/** Acknowledgements of handled stanza frames (docs: interlink README, "Acknowledgements"). */
export interface AckOptions {
  /** The receiving side writes an ack at most this long after a frame is handled... */
  readonly delayMs: number;
  /** ...or at once when this many handled frames are not acknowledged yet. */
  readonly everyFrames: number;
  /**
   * Frames written and not acknowledged, per connection: when either bound is reached the
   * connection stops writing until acks come (its queue, then its senders, wait).
   */
  readonly maxUnackedFrames: number;
  readonly maxUnackedBytes: number;
  /**
   * A link holding unacknowledged frames whose peer acknowledged nothing for this long is taken
   * for dead and dialled again (sooner than TCP would give up).
   */
  readonly timeoutMs: number;
  /**
   * A peer that has not written its first ack (it writes ack 0 on reading the hello) this long
   * after the link opened is taken for one that does not acknowledge (an earlier release): its
   * frames are then forgotten once written, as before.
   */
  readonly firstAckTimeoutMs: number;
}

export const DEFAULT_INTERLINK_OPTIONS: InterlinkOptions = {
  sendTimeoutMs: 5_000,
  endpointWaitPollMs: 250,
  helloTimeoutMs: 5_000,
  frameTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  queue: { maxFrames: 1024, maxBytes: 1024 * 1024 },
  incoming: { maxInFlightFrames: 256, maxInFlightBytes: 4 * 1024 * 1024 },
  backoff: { initialMs: 100, maxMs: 10_000 },
  stableAfterMs: 5_000,
  drainTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  unreachableAfterMs: 2_000,
  acks: {
    delayMs: 10,
    everyFrames: 128,
    maxUnackedFrames: 4096,
    maxUnackedBytes: 4 * 1024 * 1024,
    timeoutMs: 30_000,
    firstAckTimeoutMs: 5_000,
  },
};

export const INTERLINK_OPTIONS = Symbol('INTERLINK_OPTIONS');

export type InterlinkOptionsOverrides = Partial<Omit<InterlinkOptions, 'acks'>> & {
  readonly acks?: Partial<AckOptions>;
};

export function interlinkOptions(overrides: InterlinkOptionsOverrides = {}): InterlinkOptions {
  return {
    ...DEFAULT_INTERLINK_OPTIONS,
    ...overrides,
    acks: { ...DEFAULT_INTERLINK_OPTIONS.acks, ...overrides.acks },
  };
}
