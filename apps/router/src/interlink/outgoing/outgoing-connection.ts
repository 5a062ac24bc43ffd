// One outgoing link to one endpoint: dials on first use, sends the hello, then writes queued
// frames in batches (corked, one syscall per batch) while the socket accepts them, and waits for
// 'drain' when it does not. Reconnects with jittered backoff for as long as it is in service;
// queued frames wait for the new socket. Retired (config change, endpoint gone), it writes what
// it holds and closes; what it cannot write (its link is down, or drainTimeoutMs passed) goes
// back to its destination.
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { InterlinkOptions } from '../interlink-options';
import { InterlinkSendError } from '../interlink-errors';
import type { OutgoingMetrics } from '../interlink-metrics';
import { reconnectDelayMs } from './backoff';
import { FrameQueue, type QueuedFrame } from './frame-queue';

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

  constructor(private readonly deps: OutgoingConnectionDeps) {
    this.queue = new FrameQueue(deps.options.queue);
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Nothing queued, nobody waiting for room. */
  get idle(): boolean {
    return this.queue.idle;
  }

  get queued(): { frames: number; bytes: number; waiting: number } {
    return { frames: this.queue.length, bytes: this.queue.bytes, waiting: this.queue.waiting };
  }

  get isRetiring(): boolean {
    return this.retiring;
  }

  /** Resolves when the frame is admitted to the queue; waits while the queue is full. */
  enqueue(frame: QueuedFrame, deadline: number): Promise<void> {
    if (this.state === 'closed') {
      return Promise.reject(new InterlinkSendError('retired', 'the link was closed'));
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
    if (this.queue.idle && this.state !== 'open') {
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
    const frames = this.queue.takeAll();
    this.queue.rejectWaiters(new InterlinkSendError('closed', 'the interlink is closing'));
    this.finish();
    return frames;
  }

  private connect(): void {
    this.state = 'connecting';
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
    // Peers never write on a link; discard anything that arrives instead of buffering it.
    socket.resume();
  }

  private onOpen(socket: Socket): void {
    if (socket !== this.socket) return;
    socket.setTimeout(0);
    socket.setKeepAlive(true, 10_000);
    this.state = 'open';
    this.openedAt = performance.now();
    this.deps.metrics.established.inc();
    const fields = { ...this.deps.logFields };
    if (this.attempt > 1) {
      this.deps.logger.log({ ...fields, attempts: this.attempt }, 'interlink reconnected');
    } else {
      this.deps.logger.log(fields, 'interlink connected');
    }
    this.lastError = null;
    socket.write(this.deps.hello);
    this.flush();
  }

  private onSocketClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.blocked = false;
    const wasOpen = this.state === 'open';
    if (wasOpen) this.deps.metrics.closed.inc();
    this.state = 'backoff';
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
    this.scheduleReconnect(wasOpen, stable);
  }

  private scheduleReconnect(wasOpen: boolean, stable = false): void {
    this.attempt = stable ? 1 : this.attempt + 1;
    const delay = reconnectDelayMs(this.attempt, this.deps.options.backoff);
    const fields = {
      ...this.deps.logFields,
      error: this.lastError?.message ?? 'closed by peer',
      retryInMs: delay,
      attempt: this.attempt,
    };
    // One warning when a link goes down or first fails; the retries after it at debug level.
    if (wasOpen) this.deps.logger.warn(fields, 'interlink lost, reconnecting');
    else if (this.attempt === 1) this.deps.logger.warn(fields, 'interlink connection failed');
    else this.deps.logger.debug(fields, 'interlink connection failed again');
    this.state = 'backoff';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state === 'backoff') this.connect();
    }, delay).unref();
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
    if (this.queue.length > 0) {
      const now = performance.now();
      let writable = true;
      let written = 0;
      socket.cork();
      for (
        let frame = this.queue.shift();
        frame;
        frame = writable ? this.queue.shift() : undefined
      ) {
        this.deps.metrics.queueTime.observe((now - frame.queuedAt) / 1000);
        writable = socket.write(frame.bytes);
        written++;
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

  private maybeEnd(): void {
    if (this.retiring && this.queue.idle && this.state === 'open') this.socket?.end();
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
    const frames = this.queue.takeAll();
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
    for (const timer of [this.reconnectTimer, this.drainTimer]) if (timer) clearTimeout(timer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.reconnectTimer = this.drainTimer = this.sweepTimer = null;
    // A retired connection's waiters were admitted or rejected already; this covers the rest.
    this.queue.rejectWaiters(new InterlinkSendError('retired', 'the link was closed'));
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.deps.onClosed();
  }
}
