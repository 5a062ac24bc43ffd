// One outgoing connection's queue: bounded in frames and bytes. A send is admitted when there is
// room, in arrival order; until then it waits (its promise is pending), which is how
// backpressure reaches the sender. Admitted frames belong to the connection and survive
// reconnects. No sockets and no timers here: the connection drives it.
import type { InterlinkEnvelope } from '#interlink';
import { Fifo } from '../fifo';
import { InterlinkSendError } from '../interlink-errors';

export interface QueuedFrame {
  /** The encoded frame, length prefix included. */
  readonly bytes: Buffer;
  /** For rebinding the frame if its connection is retired before it is written. */
  readonly senderKey: string;
  /** performance.now() when send() was called, for the queue-time metric. */
  readonly queuedAt: number;
  /** What was framed: handed back to the router if no link can take the frame. */
  readonly envelope?: InterlinkEnvelope;
}

export interface QueueLimits {
  maxFrames: number;
  /** A single frame larger than this is still admitted into an empty queue. */
  maxBytes: number;
}

interface Waiter {
  readonly frame: QueuedFrame;
  /** performance.now() after which the send fails with 'timeout'. */
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class FrameQueue {
  private readonly frames = new Fifo<QueuedFrame>();
  private readonly waiters = new Fifo<Waiter>();
  private queuedBytes = 0;

  constructor(private readonly limits: QueueLimits) {}

  get length(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Nothing queued and nobody waiting. */
  get idle(): boolean {
    return this.frames.length === 0 && this.waiters.length === 0;
  }

  /** Admits the frame now if there is room and nobody is ahead of it; otherwise it waits. */
  offer(frame: QueuedFrame, deadline: number): Promise<void> {
    if (this.waiters.length === 0 && this.hasRoomFor(frame)) {
      this.admit(frame);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ frame, deadline, resolve, reject });
    });
  }

  /** The next frame to write, oldest first; frees room for waiting sends. */
  shift(): QueuedFrame | undefined {
    const frame = this.frames.shift();
    if (frame) {
      this.queuedBytes -= frame.bytes.length;
      this.admitWaiters();
    }
    return frame;
  }

  /** Fails the waiting sends whose deadline has passed; returns how many. */
  expire(now: number): number {
    const expired = this.waiters.removeWhere((waiter) => waiter.deadline <= now);
    for (const waiter of expired) {
      waiter.reject(
        new InterlinkSendError('timeout', 'the link queue stayed full for the whole send timeout'),
      );
    }
    return expired.length;
  }

  /** Fails every waiting send (the connection is going away). */
  rejectWaiters(error: Error): void {
    for (const waiter of this.waiters.drain()) waiter.reject(error);
  }

  /**
   * Puts frames that were written but never acknowledged back at the head, in their order,
   * ahead of everything queued after them. They were admitted once, so no bound applies.
   */
  requeue(frames: QueuedFrame[]): void {
    const rest = this.frames.drain();
    for (const frame of frames) this.admit(frame);
    for (const frame of rest) this.frames.push(frame);
  }

  /** Takes every admitted frame out, oldest first (to hand them to another connection). */
  takeAll(): QueuedFrame[] {
    this.queuedBytes = 0;
    return this.frames.drain();
  }

  private hasRoomFor(frame: QueuedFrame): boolean {
    if (this.frames.length === 0) return true;
    return (
      this.frames.length < this.limits.maxFrames &&
      this.queuedBytes + frame.bytes.length <= this.limits.maxBytes
    );
  }

  private admit(frame: QueuedFrame): void {
    this.frames.push(frame);
    this.queuedBytes += frame.bytes.length;
  }

  private admitWaiters(): void {
    for (
      let next = this.waiters.peek();
      next && this.hasRoomFor(next.frame);
      next = this.waiters.peek()
    ) {
      this.waiters.shift();
      this.admit(next.frame);
      next.resolve();
    }
  }
}
