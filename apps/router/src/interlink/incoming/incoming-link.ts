// One accepted link: decodes frames, insists on a hello first (within helloTimeoutMs), hands
// stanzas to the per-sender executor, and pauses the socket while too much of its input is
// still being handled (backpressure reaches the sender through TCP). Anything malformed or over
// the size limit, or a frame left unfinished for frameTimeoutMs, closes the link; the listener
// goes on serving the others.
//
// Acknowledgements: the link counts the stanza frames it has handled, in arrival order (the
// executor finishes different senders out of order, so the count is the longest handled
// prefix), and writes that count back as an ack frame: at once after the hello (0, which tells
// the peer that this node acknowledges), then at most every ackDelayMs, or as soon as
// ackEveryFrames are waiting. The sender keeps every frame until it is acknowledged and writes
// it again (or hands it back for routing) if the link dies first.
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  encodeAckFrame,
  FrameDecoder,
  type InterlinkEnvelope,
  type InterlinkFrame,
} from '#interlink';
import type { GdMetrics } from '../../metrics/gd-metrics';
import { incomingMetricsFor, type IncomingPeerMetrics } from '../interlink-metrics';
import type { InterlinkOptions } from '../interlink-options';

export interface InterlinkPeer {
  /** The sending node's datacenter. */
  readonly localHost: string;
  readonly node: string;
}

/** A received stanza on its way to the handler. */
export interface IncomingWork {
  readonly envelope: InterlinkEnvelope;
  readonly peer: InterlinkPeer;
  readonly link: IncomingLink;
  /** What it counts against the link's in-flight bound (the stanza's length). */
  readonly weight: number;
  /** Its place among the link's stanza frames (from 0), for the acknowledged count. */
  readonly seq: number;
}

export interface IncomingLinkDeps {
  readonly maxStanzaBytes: number;
  readonly options: InterlinkOptions;
  readonly metrics: GdMetrics;
  readonly logger: Logger;
  readonly submit: (senderKey: string, work: IncomingWork) => void;
  readonly onClosed: (link: IncomingLink) => void;
}

export class IncomingLink {
  private peerInfo: InterlinkPeer | null = null;
  private peerMetrics: IncomingPeerMetrics | null = null;
  private readonly decoder: FrameDecoder;
  private helloTimer: NodeJS.Timeout | null;
  /** Armed while a started frame is incomplete and the socket is reading. */
  private frameTimer: NodeJS.Timeout | null = null;
  private inFlightFrames = 0;
  private inFlightWeight = 0;
  private paused = false;
  /** Set by close() before shutdown: stop reading for good. */
  private stopped = false;
  private failed = false;
  /** Stanza frames accepted so far; the next one's seq. */
  private received = 0;
  /** Every frame before this seq is handled: the count acknowledged next. */
  private handled = 0;
  /** Handled frames after a gap (an earlier frame of another sender still running). */
  private readonly handledAhead = new Set<number>();
  /** The count last written in an ack. */
  private acked = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  /** An ack waits for the socket to drain (the peer is slow to read). */
  private ackAfterDrain = false;

  constructor(
    readonly socket: Socket,
    /** The remote address, for logs. */
    readonly remote: string,
    private readonly deps: IncomingLinkDeps,
  ) {
    this.decoder = new FrameDecoder({ maxStanzaBytes: deps.maxStanzaBytes });
    deps.metrics.incomingEstablished.inc();
    this.helloTimer = setTimeout(
      () => this.fail(`no hello within ${deps.options.helloTimeoutMs} ms`),
      deps.options.helloTimeoutMs,
    ).unref();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      if (this.failed) return;
      this.failed = true;
      deps.metrics.incomingErrored.inc();
      deps.logger.warn({ ...this.logFields(), error: err.message }, 'interlink link error');
    });
    socket.once('close', () => {
      if (this.helloTimer) clearTimeout(this.helloTimer);
      if (this.ackTimer) clearTimeout(this.ackTimer);
      this.disarmFrameTimer();
      deps.metrics.incomingClosed.inc();
      deps.logger.log(this.logFields(), 'interlink peer disconnected');
      deps.onClosed(this);
    });
  }

  get peer(): InterlinkPeer | null {
    return this.peerInfo;
  }

  get inFlight(): { frames: number; weight: number; paused: boolean } {
    return { frames: this.inFlightFrames, weight: this.inFlightWeight, paused: this.paused };
  }

  /** Stanza frames received and handled so far, for tests and diagnostics. */
  get counts(): { received: number; handled: number; acked: number } {
    return { received: this.received, handled: this.handled, acked: this.acked };
  }

  /** A handled stanza frees its share of the in-flight bound and counts toward the next ack. */
  release(weight: number, seq: number): void {
    this.markHandled(seq);
    this.inFlightFrames--;
    this.inFlightWeight -= weight;
    const { maxInFlightFrames, maxInFlightBytes } = this.deps.options.incoming;
    // Resume at half the bound, so a busy link does not flip on every stanza.
    if (
      this.paused &&
      !this.stopped &&
      this.inFlightFrames <= maxInFlightFrames / 2 &&
      this.inFlightWeight <= maxInFlightBytes / 2 &&
      this.received - this.handled <= this.maxUnacknowledged() / 2
    ) {
      this.paused = false;
      this.socket.resume();
      this.watchPartialFrame();
    }
  }

  /** Stop reading (shutdown): what was received is still handled. */
  stopReading(): void {
    this.stopped = true;
    this.socket.pause();
    this.disarmFrameTimer();
  }

  /**
   * Shutdown, once what was read is handled: acknowledges it, then ends the link. Frames the
   * peer wrote that were never read stay unacknowledged, so the peer sends them elsewhere. What
   * still arrives is discarded (reading on lets the peer's end of the close come through).
   * Resolves when the socket has closed.
   */
  finish(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once('close', () => resolve());
    });
    if (!this.socket.destroyed) {
      this.stopped = true;
      this.failed = true;
      this.writeAck(true);
      this.socket.removeAllListeners('data');
      this.socket.on('data', () => undefined);
      this.socket.resume();
      this.socket.end();
    }
    return closed;
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      if (!this.accept(frame)) return;
    }
    if (error) {
      this.fail(`${error.code}: ${error.message}`);
      return;
    }
    this.watchPartialFrame();
  }

  /**
   * Times the frame in progress while the link reads; a complete frame, or a pause for
   * backpressure (the wait is ours, not the peer's), stops the clock.
   */
  private watchPartialFrame(): void {
    if (this.decoder.bufferedBytes === 0 || this.paused || this.stopped || this.failed) {
      this.disarmFrameTimer();
      return;
    }
    if (this.frameTimer) return;
    const { frameTimeoutMs } = this.deps.options;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = null;
      this.fail(
        `a frame left unfinished for ${frameTimeoutMs} ms (${this.decoder.bufferedBytes} bytes held)`,
      );
    }, frameTimeoutMs).unref();
  }

  private disarmFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = null;
  }

  private accept(frame: InterlinkFrame): boolean {
    if (frame.kind === 'ack') {
      this.fail('an ack from the dialling side');
      return false;
    }
    if (frame.kind === 'hello') {
      if (this.peerInfo) {
        this.fail('a second hello');
        return false;
      }
      if (this.helloTimer) clearTimeout(this.helloTimer);
      this.helloTimer = null;
      this.peerInfo = frame.hello;
      this.peerMetrics = incomingMetricsFor(this.deps.metrics, frame.hello.localHost);
      this.deps.metrics.incomingFirstPacket.labels(frame.hello.localHost).inc();
      this.deps.logger.log(this.logFields(), 'interlink peer connected');
      // Tells the peer that this node acknowledges what it handles.
      this.socket.write(encodeAckFrame(0));
      return true;
    }
    const peer = this.peerInfo;
    if (!peer || !this.peerMetrics) {
      this.fail('a stanza before the hello');
      return false;
    }
    const { envelope } = frame;
    this.peerMetrics.messages.inc();
    const transferUs = interlinkNowUs() - envelope.sentAtUs;
    if (transferUs >= 0) this.peerMetrics.transferTime.observe(transferUs / 1e6);
    const weight = envelope.stanza.length;
    this.inFlightFrames++;
    this.inFlightWeight += weight;
    const seq = this.received++;
    this.deps.submit(envelope.senderKey, { envelope, peer, link: this, weight, seq });
    const { maxInFlightFrames, maxInFlightBytes } = this.deps.options.incoming;
    if (
      !this.paused &&
      (this.inFlightFrames >= maxInFlightFrames ||
        this.inFlightWeight >= maxInFlightBytes ||
        this.received - this.handled >= this.maxUnacknowledged())
    ) {
      this.paused = true;
      this.socket.pause();
      this.disarmFrameTimer();
    }
    return true;
  }

  /**
   * Frames received and not yet covered by the handled count: one stuck handler leaves a gap
   * while other senders' frames go on, and handledAhead grows with it. A current peer stops
   * at its own window; this bounds the set against one that keeps none.
   */
  private maxUnacknowledged(): number {
    return this.deps.options.acks.maxUnackedFrames;
  }

  private markHandled(seq: number): void {
    if (seq !== this.handled) {
      this.handledAhead.add(seq);
      return;
    }
    this.handled++;
    while (this.handledAhead.delete(this.handled)) this.handled++;
    const { everyFrames, delayMs } = this.deps.options.acks;
    if (this.handled - this.acked >= everyFrames) this.writeAck(false);
    else this.ackTimer ??= setTimeout(() => this.writeAck(false), delayMs).unref();
  }

  /**
   * Writes the handled count if it moved. Acks are cumulative, so while the peer does not read
   * what we write they wait for the socket to drain, and the one written then covers them all.
   */
  private writeAck(final: boolean): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.handled === this.acked || this.socket.destroyed || this.socket.writableEnded) return;
    if (!final && this.socket.writableLength > MAX_UNSENT_ACK_BYTES) {
      if (!this.ackAfterDrain) {
        this.ackAfterDrain = true;
        this.socket.once('drain', () => {
          this.ackAfterDrain = false;
          this.writeAck(false);
        });
      }
      return;
    }
    this.acked = this.handled;
    this.socket.write(encodeAckFrame(this.handled));
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.deps.metrics.incomingErrored.inc();
    this.deps.logger.warn({ ...this.logFields(), reason }, 'interlink link refused, closing it');
    this.socket.destroy();
  }

  private logFields(): Record<string, string> {
    const peer = this.peerInfo;
    return peer
      ? { remote: this.remote, peerHost: peer.localHost, peerNode: peer.node }
      : { remote: this.remote };
  }
}

/** Acks left unsent by a peer that does not read: beyond this, the next ones wait. */
const MAX_UNSENT_ACK_BYTES = 64 * 1024;

/** Microseconds since the epoch, the clock of InterlinkEnvelope.sentAtUs. */
export function interlinkNowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
