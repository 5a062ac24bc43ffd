// One outgoing link to one endpoint: dials on first use, sends the hello, then writes queued
// frames in batches (corked, one syscall per batch) while the socket accepts them, and waits for
// 'drain' when it does not. Reconnects with jittered backoff for as long as it is in service;
// queued frames wait for the new socket. Retired (config change, endpoint gone), it writes what
// it holds and closes; what it cannot write (its link is down, or drainTimeoutMs passed) goes
// back to its destination.
//
// Written frames are kept until the peer acknowledges them (ack frames come back on the same
// socket, cumulative). When the link dies first, they go back to the head of the queue and are
// written again on the next socket, or handed on like the rest of the queue: at least once,
// never lost in silence. At most acks.maxUnackedFrames/Bytes are in flight per connection.
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FrameDecoder } from '#interlink';
import type { InterlinkOptions } from '../interlink-options';
import { InterlinkSendError } from '../interlink-errors';
import type { OutgoingMetrics } from '../interlink-metrics';
import { reconnectDelayMs } from './backoff';
import { FrameQueue, type QueuedFrame } from './frame-queue';
import { UnackedWindow } from './unacked-window';

export interface DialedSocket {
  readonly socket: Socket;
  /** 'secureConnect' for TLS: the link is up once the handshake is done. */
  readonly readyEvent: 'connect' | 'secureConnect';
}

export interface OutgoingConnectionDeps {
  /** Fields identifying the link in logs: remote datacenter, endpoint, connection number. */
  readonly logFields: Readonly<Record<string, string | number>>;
  readonly dial: () => DialedSocket;
  readonly hello: Buffer;
  readonly options: InterlinkOptions;
  readonly metrics: OutgoingMetrics;
  readonly logger: Logger;
  /** Frames a retired connection could not write within drainTimeoutMs. */
  readonly onStranded: (frames: QueuedFrame[]) => void;
  /**
   * The link is down (lost, or a dial failed) with frames waiting: the destination re-reads
   * its endpoints, so that frames for a node that has gone are handed on at once.
   */
  readonly onLinkDown: () => void;
  /** The link stayed down for unreachableAfterMs: what it held, to be sent another way. */
  readonly onUnreachable: (frames: QueuedFrame[]) => void;
  readonly onClosed: () => void;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

export class OutgoingConnection {
  private state: ConnectionState = 'idle';
  private socket: Socket | null = null;
  private readonly queue: FrameQueue;
  /** socket.write() returned false: wait for 'drain'. */
  private blocked = false;
  private flushScheduled = false;
  private retiring = false;
  /** Consecutive failed attempts; the backoff step. */
  private attempt = 0;
  private openedAt = 0;
  private lastError: Error | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  /** Written on the current socket, not acknowledged yet. */
  private readonly unacked: UnackedWindow;
  private ackTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the link went down or the first dial began; null while open. */
  private downSince: number | null = null;
  private unreachableTimer: NodeJS.Timeout | null = null;
  /** Set when the link has been down for unreachableAfterMs; cleared when it opens. */
  private declaredUnreachable = false;

  constructor(private readonly deps: OutgoingConnectionDeps) {
    this.queue = new FrameQueue(deps.options.queue);
    this.unacked = new UnackedWindow(deps.options.acks);
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Nothing queued or unacknowledged, nobody waiting for room. */
  get idle(): boolean {
    return this.queue.idle && this.unacked.length === 0;
  }

  get queued(): { frames: number; bytes: number; waiting: number; unacked: number } {
    return {
      frames: this.queue.length,
      bytes: this.queue.bytes,
      waiting: this.queue.waiting,
      unacked: this.unacked.length,
    };
  }

  get isRetiring(): boolean {
    return this.retiring;
  }

  /**
   * Down (dials failing or not answered) for unreachableAfterMs: what it held was handed on
   * at that moment, and new frames must go another way until the link opens again.
   */
  get unreachable(): boolean {
    return this.declaredUnreachable;
  }

  /** Resolves when the frame is admitted to the queue; waits while the queue is full. */
  enqueue(frame: QueuedFrame, deadline: number): Promise<void> {
    if (this.state === 'closed') {
      return Promise.reject(new InterlinkSendError('retired', 'the link was closed'));
    }
    if (this.unreachable) {
      return Promise.reject(
        new InterlinkSendError(
          'unreachable',
          `the link has been down since ${this.downForMs()} ms`,
        ),
      );
    }
    const admitted = this.queue.offer(frame, deadline);
    if (this.state === 'idle') this.connect();
    this.scheduleFlush();
    if (this.queue.waiting > 0) this.armSweep();
    return admitted;
  }

  /** Stop taking new traffic (the pool no longer routes here), write what is queued, close. */
  retire(): void {
    if (this.retiring || this.state === 'closed') return;
    this.retiring = true;
    if (this.idle && this.state !== 'open') {
      this.finish();
      return;
    }
    if (this.state === 'backoff') {
      // Not connected (its node died or stopped): waiting for drainTimeoutMs would only hold
      // the frames back from the links that can take them now.
      this.strand();
      return;
    }
    this.drainTimer = setTimeout(() => this.strand(), this.deps.options.drainTimeoutMs).unref();
    this.maybeEnd();
  }

  /** Closes at once; returns the frames that were still queued (waiting sends are rejected). */
  destroy(): QueuedFrame[] {
    if (this.state === 'closed') return [];
    const frames = this.takeHeld();
    this.queue.rejectWaiters(new InterlinkSendError('closed', 'the interlink is closing'));
    this.finish();
    return frames;
  }

  private connect(): void {
    this.state = 'connecting';
    this.markDown();
    let dialed: DialedSocket;
    try {
      dialed = this.deps.dial();
    } catch (err) {
      this.lastError = err as Error;
      this.deps.metrics.errored.inc();
      this.scheduleReconnect(false);
      return;
    }
    const { socket, readyEvent } = dialed;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.deps.options.connectTimeoutMs);
    socket.once('timeout', () => {
      socket.destroy(new Error(`no connection within ${this.deps.options.connectTimeoutMs} ms`));
    });
    socket.once(readyEvent, () => this.onOpen(socket));
    socket.on('error', (err: Error) => {
      if (socket !== this.socket) return;
      this.lastError = err;
      this.deps.metrics.errored.inc();
    });
    socket.once('close', () => this.onSocketClose(socket));
    // Acks are the only frames that come back; anything else ends the link.
    const decoder = new FrameDecoder({ maxStanzaBytes: 0 });
    socket.on('data', (chunk: Buffer) => this.onPeerData(socket, decoder, chunk));
  }

  private onOpen(socket: Socket): void {
    if (socket !== this.socket) return;
    socket.setTimeout(0);
    socket.setKeepAlive(true, 10_000);
    this.state = 'open';
    this.downSince = null;
    this.declaredUnreachable = false;
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = null;
    this.openedAt = performance.now();
    this.deps.metrics.established.inc();
    const fields = { ...this.deps.logFields };
    if (this.attempt > 1) {
      this.deps.logger.log({ ...fields, attempts: this.attempt }, 'interlink reconnected');
    } else {
      this.deps.logger.log(fields, 'interlink connected');
    }
    this.lastError = null;
    this.unacked.opened(this.openedAt);
    this.armAckWatch();
    socket.write(this.deps.hello);
    this.flush();
  }

  private onPeerData(socket: Socket, decoder: FrameDecoder, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const { frames, error } = decoder.push(chunk);
    for (const frame of frames) {
      if (frame.kind !== 'ack') {
        socket.destroy(new Error(`the peer wrote a ${frame.kind} frame; only acks come back`));
        return;
      }
      if (!this.onAck(socket, frame.count)) return;
    }
    if (error) socket.destroy(new Error(`bad frame from the peer: ${error.message}`));
  }

  /** Drops the frames the peer has handled; false (and the link closed) on a count out of range. */
  private onAck(socket: Socket, count: number): boolean {
    const advanced = this.unacked.ack(count, performance.now());
    if (typeof advanced === 'string') {
      socket.destroy(new Error(advanced));
      return false;
    }
    // Room in the window again, or the last acknowledgement a retiring connection waited for.
    if (advanced > 0) this.flush();
    return true;
  }

  /**
   * Checks, while the link is open, that a peer holding unacknowledged frames acknowledges
   * within acks.timeoutMs: a link that carries nothing back is taken for dead (TCP may take
   * minutes to say so); a peer with no first ack within acks.firstAckTimeoutMs, for one that
   * cannot acknowledge.
   */
  private armAckWatch(): void {
    const { timeoutMs, firstAckTimeoutMs } = this.deps.options.acks;
    const period = Math.max(20, Math.min(timeoutMs, firstAckTimeoutMs) / 4);
    this.ackTimer = setInterval(() => this.checkAcks(), period).unref();
  }

  private checkAcks(): void {
    const socket = this.socket;
    if (this.state !== 'open' || !socket) return;
    const now = performance.now();
    const held = this.unacked.length;
    switch (this.unacked.check(now)) {
      case 'peer-does-not-ack':
        this.deps.logger.warn(
          { ...this.deps.logFields, frames: held },
          'interlink peer does not acknowledge frames (an earlier release?): what is written to it is no longer kept',
        );
        this.flush();
        return;
      case 'stalled':
        socket.destroy(
          new Error(
            `no acknowledgement for ${this.unacked.waitedMs(now)} ms with ${held} frames unacknowledged`,
          ),
        );
        return;
      case 'ok':
        return;
    }
  }

  private onSocketClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.blocked = false;
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.ackTimer = null;
    const wasOpen = this.state === 'open';
    if (wasOpen) this.deps.metrics.closed.inc();
    this.state = 'backoff';
    this.markDown();
    const requeued = this.requeueUnacked();
    if (this.retiring && this.queue.idle) {
      if (wasOpen) this.deps.logger.log(this.deps.logFields, 'interlink closed after draining');
      this.finish();
      return;
    }
    if (this.retiring) {
      // Lost while draining: the rest goes to the current links rather than waiting here.
      this.strand();
      return;
    }
    const stable = wasOpen && performance.now() - this.openedAt >= this.deps.options.stableAfterMs;
    this.scheduleReconnect(wasOpen, stable, requeued);
  }

  /** The link is gone: what it wrote and was not acknowledged goes out again first. */
  private requeueUnacked(): number {
    const frames = this.unacked.takeAll();
    if (frames.length > 0) {
      this.queue.requeue(frames);
      this.deps.metrics.requeued.inc(frames.length);
    }
    return frames.length;
  }

  /** Everything this connection holds, oldest first: unacknowledged, then queued. */
  private takeHeld(): QueuedFrame[] {
    return [...this.unacked.takeAll(), ...this.queue.takeAll()];
  }

  private scheduleReconnect(wasOpen: boolean, stable = false, requeued = 0): void {
    this.attempt = stable ? 1 : this.attempt + 1;
    const delay = reconnectDelayMs(this.attempt, this.deps.options.backoff);
    const fields = {
      ...this.deps.logFields,
      error: this.lastError?.message ?? 'closed by peer',
      retryInMs: delay,
      attempt: this.attempt,
      ...(requeued > 0 ? { requeued } : {}),
    };
    // One warning when a link goes down or first fails; the retries after it at debug level.
    if (wasOpen) this.deps.logger.warn(fields, 'interlink lost, reconnecting');
    else if (this.attempt === 1) this.deps.logger.warn(fields, 'interlink connection failed');
    else this.deps.logger.debug(fields, 'interlink connection failed again');
    this.state = 'backoff';
    if (!this.queue.idle) this.deps.onLinkDown();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state === 'backoff') this.connect();
    }, delay).unref();
  }

  private downForMs(): number {
    return this.downSince === null ? 0 : Math.round(performance.now() - this.downSince);
  }

  /**
   * The link is not open (a first dial, or lost): from now on, unreachableAfterMs without it
   * opening declares the endpoint unreachable, whatever happens to be queued by then.
   */
  private markDown(): void {
    if (this.downSince !== null) return;
    this.downSince = performance.now();
    this.unreachableTimer = setTimeout(
      () => this.declareUnreachable(),
      this.deps.options.unreachableAfterMs,
    ).unref();
  }

  /** Hands on what the connection holds; new frames are refused until the link opens. */
  private declareUnreachable(): void {
    this.unreachableTimer = null;
    if (this.state === 'open' || this.state === 'closed') return;
    this.declaredUnreachable = true;
    const frames = this.takeHeld();
    this.queue.rejectWaiters(
      new InterlinkSendError('unreachable', 'the link stayed down; the stanza bounces'),
    );
    this.deps.logger.warn(
      {
        ...this.deps.logFields,
        downMs: this.downForMs(),
        frames: frames.length,
        error: this.lastError?.message,
      },
      'interlink endpoint unreachable: its frames go another way, and new ones until it is back',
    );
    if (frames.length > 0) this.deps.onUnreachable(frames);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state !== 'open') return;
    this.flushScheduled = true;
    // Frames admitted in this tick go out together: one corked batch, one write syscall.
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (this.state !== 'open' || !socket || this.blocked) return;
    if (this.queue.length > 0 && !this.unacked.full) {
      const now = performance.now();
      let writable = true;
      let written = 0;
      socket.cork();
      for (
        let frame = this.queue.shift();
        frame;
        frame = writable && !this.unacked.full ? this.queue.shift() : undefined
      ) {
        this.deps.metrics.queueTime.observe((now - frame.queuedAt) / 1000);
        writable = socket.write(frame.bytes);
        written++;
        this.unacked.written(frame, now);
      }
      socket.uncork();
      this.deps.metrics.messages.inc(written);
      if (!writable) {
        this.blocked = true;
        socket.once('drain', () => {
          this.blocked = false;
          this.flush();
        });
        return;
      }
    }
    this.maybeEnd();
  }

  /** A retiring connection ends its link once everything is written and acknowledged. */
  private maybeEnd(): void {
    if (this.retiring && this.idle && this.state === 'open') this.socket?.end();
  }

  private armSweep(): void {
    if (this.sweepTimer) return;
    const period = Math.max(10, Math.min(250, this.deps.options.sendTimeoutMs / 10));
    this.sweepTimer = setInterval(() => {
      this.queue.expire(performance.now());
      if (this.queue.waiting === 0 && this.sweepTimer) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = null;
      }
    }, period).unref();
  }

  private strand(): void {
    this.drainTimer = null;
    if (this.state === 'closed') return;
    const frames = this.takeHeld();
    this.queue.rejectWaiters(
      new InterlinkSendError('retired', 'the link was retired before the frame could be queued'),
    );
    this.deps.logger.warn(
      { ...this.deps.logFields, frames: frames.length, error: this.lastError?.message },
      'retired interlink could not write its queue; its frames go to the current links',
    );
    this.finish();
    if (frames.length > 0) this.deps.onStranded(frames);
  }

  private finish(): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.deps.metrics.closed.inc();
    this.state = 'closed';
    for (const timer of [this.reconnectTimer, this.drainTimer, this.unreachableTimer]) {
      if (timer) clearTimeout(timer);
    }
    for (const timer of [this.sweepTimer, this.ackTimer]) if (timer) clearInterval(timer);
    this.reconnectTimer = this.drainTimer = this.sweepTimer = this.ackTimer = null;
    this.unreachableTimer = null;
    // A retired connection's waiters were admitted or rejected already; this covers the rest.
    this.queue.rejectWaiters(new InterlinkSendError('retired', 'the link was closed'));
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.deps.onClosed();
  }
}
