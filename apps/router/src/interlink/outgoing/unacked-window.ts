// The frames one link has written and its peer has not acknowledged yet, oldest first, and what
// the acks say about the peer. No sockets and no timers: the connection drives it. Acks are
// cumulative counts of handled stanza frames on this link, modulo 2^32.
import { Fifo } from '../fifo';
import type { AckOptions } from '../interlink-options';
import type { QueuedFrame } from './frame-queue';

/**
 * Whether the peer acknowledges: unknown until its first ack (it writes ack 0 on reading our
 * hello) or until acks.firstAckTimeoutMs pass without one ('no': a node of an earlier release,
 * whose frames are forgotten once written).
 */
export type PeerAcks = 'unknown' | 'yes' | 'no';

/** What the periodic check finds. */
export type AckCheck =
  | 'ok'
  /** No ack at all since the link opened: the peer does not acknowledge; frames dropped. */
  | 'peer-does-not-ack'
  /** Frames held and no ack progress for acks.timeoutMs: the link is to be taken for dead. */
  | 'stalled';

const TWO_POW_32 = 0x1_0000_0000;

/** Frames an ack of `count` covers after one of `previous` (both modulo 2^32). */
export function framesCovered(previous: number, count: number): number {
  return (count - previous + TWO_POW_32) % TWO_POW_32;
}

export class UnackedWindow {
  private readonly frames = new Fifo<QueuedFrame>();
  private bytes = 0;
  private peer: PeerAcks = 'unknown';
  /** The peer's last count. */
  private acked = 0;
  private openedAt = 0;
  /** Since when the oldest held frame has waited without any ack progress. */
  private waitSince = 0;

  constructor(private readonly options: AckOptions) {}

  get length(): number {
    return this.frames.length;
  }

  get peerAcks(): PeerAcks {
    return this.peer;
  }

  /** Since when the held frames have waited without ack progress (for logs). */
  waitedMs(now: number): number {
    return Math.round(now - this.waitSince);
  }

  /** A new link opened: counts start again, and whether the peer acknowledges is unknown. */
  opened(now: number): void {
    this.peer = 'unknown';
    this.acked = 0;
    this.openedAt = now;
    this.waitSince = now;
  }

  /** Room for another written frame. */
  get full(): boolean {
    const { maxUnackedFrames, maxUnackedBytes } = this.options;
    return this.frames.length >= maxUnackedFrames || this.bytes >= maxUnackedBytes;
  }

  /** A frame was just written: held until acknowledged (unless the peer does not ack). */
  written(frame: QueuedFrame, now: number): void {
    if (this.peer === 'no') return;
    if (this.frames.length === 0) this.waitSince = now;
    this.frames.push(frame);
    this.bytes += frame.bytes.length;
  }

  /**
   * Drops the frames the count covers. Returns how many, or an error message when the count
   * covers more than was written (the link cannot be trusted and is to be closed).
   */
  ack(count: number, now: number): number | string {
    if (this.peer === 'no') return 0; // Too late: its frames were forgotten already.
    this.peer = 'yes';
    const advanced = framesCovered(this.acked, count);
    if (advanced > this.frames.length) {
      return `the peer acknowledged ${advanced} frames, only ${this.frames.length} were sent`;
    }
    for (let i = 0; i < advanced; i++) this.bytes -= this.frames.shift()!.bytes.length;
    if (advanced > 0) {
      this.acked = count;
      this.waitSince = now;
    }
    return advanced;
  }

  check(now: number): AckCheck {
    const { timeoutMs, firstAckTimeoutMs } = this.options;
    if (this.peer === 'unknown' && now - this.openedAt >= firstAckTimeoutMs) {
      this.peer = 'no';
      this.takeAll();
      return 'peer-does-not-ack';
    }
    if (this.frames.length > 0 && now - this.waitSince >= timeoutMs) return 'stalled';
    return 'ok';
  }

  /** Every held frame, oldest first (the link is gone: they are to be written again). */
  takeAll(): QueuedFrame[] {
    this.bytes = 0;
    return this.frames.drain();
  }
}
