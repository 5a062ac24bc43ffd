// One accepted link: decodes frames, insists on a hello first (within helloTimeoutMs), hands
// stanzas to the per-sender executor, and pauses the socket while too much of its input is
// still being handled (backpressure reaches the sender through TCP). Anything malformed or over
// the size limit, or a frame left unfinished for frameTimeoutMs, closes the link; the listener
// goes on serving the others.
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FrameDecoder, type InterlinkEnvelope, type InterlinkFrame } from '#interlink';
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

  /** A handled stanza frees its share of the in-flight bound. */
  release(weight: number): void {
    this.inFlightFrames--;
    this.inFlightWeight -= weight;
    const { maxInFlightFrames, maxInFlightBytes } = this.deps.options.incoming;
    // Resume at half the bound, so a busy link does not flip on every stanza.
    if (
      this.paused &&
      !this.stopped &&
      this.inFlightFrames <= maxInFlightFrames / 2 &&
      this.inFlightWeight <= maxInFlightBytes / 2
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
    this.deps.submit(envelope.senderKey, { envelope, peer, link: this, weight });
    const { maxInFlightFrames, maxInFlightBytes } = this.deps.options.incoming;
    if (
      !this.paused &&
      (this.inFlightFrames >= maxInFlightFrames || this.inFlightWeight >= maxInFlightBytes)
    ) {
      this.paused = true;
      this.socket.pause();
      this.disarmFrameTimer();
    }
    return true;
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

/** Microseconds since the epoch, the clock of InterlinkEnvelope.sentAtUs. */
export function interlinkNowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
