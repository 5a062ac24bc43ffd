// The links between this node and the others (ARCHITECTURE §7), behind the InterlinkService
// contract of docs/router-core.md: send() frames an envelope and queues it on the sender's
// connection to the destination; received stanzas go to the handler, one at a time per sender.
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { connect as connectTcp } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import type { MeridianConfigDocument } from '#config';
import { encodeHelloFrame, encodeStanzaFrame, type InterlinkEnvelope } from '#interlink';
import { BootError, describeListenError } from '../boot/boot-error';
import { ROUTER_ENV, type HostPort, type RouterEnv } from '../env/router-env';
import { GdMetrics } from '../metrics/gd-metrics';
import { ENDPOINT_SOURCE, type EndpointSource } from './endpoint-source';
import type { InterlinkPeer, IncomingWork } from './incoming/incoming-link';
import { InterlinkListener } from './incoming/interlink-listener';
import { InterlinkSendError } from './interlink-errors';
import { outgoingMetricsFor } from './interlink-metrics';
import {
  INTERLINK_OPTIONS,
  interlinkOptions,
  type InterlinkOptions,
  type InterlinkOptionsOverrides,
} from './interlink-options';
import {
  defaultLinkSettings,
  linkSettingsOf,
  overridesDiffer,
  type LinkSettings,
} from './link-settings';
import { Destination } from './outgoing/destination';
import { EndpointPool, endpointKey, type PoolEndpoint } from './outgoing/endpoint-pool';
import type { QueuedFrame } from './outgoing/frame-queue';
import { OutgoingConnection, type DialedSocket } from './outgoing/outgoing-connection';
import { clientTlsOptions, loadTlsMaterial, type TlsMaterial } from './tls-material';

/** Where a stanza goes: any node of a datacenter, or one node of it. */
export interface InterlinkTarget {
  readonly localHost: string;
  readonly node?: string;
}

export type InterlinkHandler = (envelope: InterlinkEnvelope, peer: InterlinkPeer) => Promise<void>;

/** Takes an envelope that was queued but that no link could carry. */
export type UndeliverableHandler = (envelope: InterlinkEnvelope) => void;

export interface DestinationInfo {
  readonly label: string;
  /** Endpoint keys of the pools taking traffic, and of the disabled ones. */
  readonly active: string[];
  readonly disabled: string[];
  /** Pools draining before they close. */
  readonly retiring: number;
  /** Frames queued, and sends waiting for room, over every connection. */
  readonly queuedFrames: number;
  /** Frames written and not acknowledged by the peer yet. */
  readonly unackedFrames: number;
  readonly waitingSends: number;
  /** Connections created and not closed. */
  readonly connections: number;
}

/** What the links need from the environment. */
export type InterlinkEnv = Pick<RouterEnv, 'localHost' | 'node' | 'interlinkListen' | 'tls'>;

/** Handler failures are logged at most this often (with a count), never once per stanza. */
const HANDLER_ERROR_LOG_INTERVAL_MS = 10_000;

@Injectable()
export class InterlinkService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Interlink');
  private readonly options: InterlinkOptions;
  private readonly hello: Buffer;
  private readonly listener: InterlinkListener;
  private readonly destinations = new Map<string, Destination>();
  private settings: LinkSettings = defaultLinkSettings();
  private material: TlsMaterial | null;
  private handler: InterlinkHandler | null = null;
  private handlerWaiters: (() => void)[] = [];
  private undeliverable: UndeliverableHandler | null = null;
  private gcTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private bound: HostPort | null = null;
  private handlerErrors = 0;
  private handlerErrorLoggedAt = 0;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: InterlinkEnv,
    private readonly metrics: GdMetrics,
    @Inject(ENDPOINT_SOURCE) private readonly source: EndpointSource,
    @Optional() @Inject(INTERLINK_OPTIONS) overrides?: InterlinkOptionsOverrides,
  ) {
    this.options = interlinkOptions(overrides);
    this.hello = encodeHelloFrame({ localHost: env.localHost, node: env.node });
    // Until the first revision, the defaults apply (TLS on); certificates if the files are there.
    this.material = this.settings.tlsEnabled ? tryLoadTlsMaterial(env.tls) : null;
    this.listener = new InterlinkListener(this.listenerSettings(), {
      options: this.options,
      metrics,
      logger: this.logger,
      handle: (work) => this.handle(work),
      onHandlerError: (error) => this.reportHandlerError(error),
    });
  }

  /** The address the listener is bound to (the real port when INTERLINK_LISTEN says 0). */
  get listenAddress(): HostPort | null {
    return this.bound;
  }

  async onModuleInit(): Promise<void> {
    const { port } = this.env.interlinkListen;
    try {
      await this.listen();
    } catch (err) {
      throw new BootError(describeListenError(err, 'INTERLINK_LISTEN', port), { cause: err });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Opens INTERLINK_LISTEN. */
  async listen(): Promise<HostPort> {
    this.bound = await this.listener.listen(this.env.interlinkListen);
    this.logger.log(
      { address: endpointKey(this.bound), tls: this.settings.tlsEnabled },
      'interlink listening',
    );
    return this.bound;
  }

  /** Received stanzas go here, one at a time per sender; they wait until a handler is set. */
  setHandler(handler: InterlinkHandler): void {
    this.handler = handler;
    const waiters = this.handlerWaiters;
    this.handlerWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Envelopes that send() queued but no link could carry (their node died, and no other
   * endpoint took them) go here, so that the router routes them again or answers the sender.
   */
  onUndeliverable(handler: UndeliverableHandler): void {
    this.undeliverable = handler;
  }

  /**
   * Queues the envelope on the sender's connection to the destination. Resolves once queued
   * (not once received); waits while no endpoint is known or the queue is full, for at most
   * `sendTimeoutMs` in all; then rejects with InterlinkSendError, as it does for an envelope
   * that cannot be framed. A sender's envelopes are queued in call order.
   */
  send(to: InterlinkTarget, envelope: InterlinkEnvelope): Promise<void> {
    if (this.closing) {
      return Promise.reject(new InterlinkSendError('closed', 'the interlink is closing'));
    }
    if (this.settings.tlsEnabled && !this.material) {
      return Promise.reject(
        new InterlinkSendError('not-configured', 'TLS is on and this node has no certificates'),
      );
    }
    let bytes: Buffer;
    try {
      bytes = encodeStanzaFrame(envelope, { maxStanzaBytes: this.settings.maxStanzaBytes });
    } catch (err) {
      return Promise.reject(new InterlinkSendError('invalid', (err as Error).message));
    }
    const now = performance.now();
    return this.destinationOf(to).send(
      { bytes, senderKey: envelope.senderKey, queuedAt: now, envelope },
      now + this.options.sendTimeoutMs,
    );
  }

  /**
   * Applies a revision's link options without a restart. Throws InterlinkConfigError (and
   * changes nothing) when TLS is on and the certificate files are missing. Pools whose size or
   * TLS setting changed are replaced; the old connections write what they queued, then close.
   */
  applyConfig(config: MeridianConfigDocument): void {
    if (this.closing) return;
    const next = linkSettingsOf(config);
    const material = next.tlsEnabled ? loadTlsMaterial(this.env.tls) : null;
    const previous = this.settings;
    const rebuild =
      previous.connectionsPerEndpoint !== next.connectionsPerEndpoint ||
      previous.tlsEnabled !== next.tlsEnabled ||
      this.material?.digest !== material?.digest;
    const reschedule =
      previous.refreshIntervalMs !== next.refreshIntervalMs ||
      previous.cleanStartRefreshIntervalMs !== next.cleanStartRefreshIntervalMs;
    this.settings = next;
    this.material = material;
    this.listener.configure(this.listenerSettings());
    for (const destination of this.destinations.values()) {
      if (rebuild) destination.rebuild();
      if (destination.node === null && overridesDiffer(previous, next, destination.localHost)) {
        void destination.refresh();
      } else if (reschedule) {
        destination.reschedule();
      }
    }
    if (previous.gcIntervalMs !== next.gcIntervalMs && this.gcTimer) this.scheduleGc();
    if (rebuild && this.destinations.size > 0) {
      this.logger.log(
        {
          connectionsPerEndpoint: next.connectionsPerEndpoint,
          tls: next.tlsEnabled,
          destinations: this.destinations.size,
        },
        'interlink pools rebuilt for new settings; old connections drain, then close',
      );
    }
  }

  /**
   * Stops listening and lets received stanzas be handled (bounded by closeTimeoutMs), then
   * writes what is queued, replies included (same bound, then drops the rest), and closes
   * every socket.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** The destinations this node sends to, for tests and diagnostics. */
  destinationsInUse(): DestinationInfo[] {
    return [...this.destinations.values()].map((destination) => ({
      label: destination.label,
      ...destination.poolKeys,
      ...destination.queued,
    }));
  }

  /** What the receiving side holds, for tests and diagnostics. */
  get incoming(): { links: number; pendingStanzas: number } {
    return { links: this.listener.linkCount, pendingStanzas: this.listener.pendingStanzas };
  }

  /** Reads the endpoints of every destination now instead of at its next tick. */
  async refreshEndpoints(): Promise<void> {
    await Promise.all([...this.destinations.values()].map((destination) => destination.refresh()));
  }

  /** Runs the disabled-pool GC now instead of at its next tick. */
  collectGarbage(): void {
    for (const [key, destination] of this.destinations) {
      if (destination.collectGarbage()) {
        void destination.close();
        this.destinations.delete(key);
      }
    }
  }

  private destinationOf(to: InterlinkTarget): Destination {
    const node = to.node ?? null;
    const key = node === null ? to.localHost : `${to.localHost}/${node}`;
    let destination = this.destinations.get(key);
    if (!destination) {
      destination = new Destination(to.localHost, node, {
        source: this.source,
        settings: () => this.settings,
        options: this.options,
        self: { localHost: this.env.localHost, node: this.env.node },
        createPool: (owner, endpoint) => this.createPool(owner, endpoint),
        undeliverable: (frames) => this.handBack(frames),
        logger: this.logger,
      });
      this.destinations.set(key, destination);
      destination.start();
      if (!this.gcTimer) this.scheduleGc();
    }
    return destination;
  }

  private createPool(destination: Destination, endpoint: PoolEndpoint): EndpointPool {
    const material = this.material;
    const metrics = outgoingMetricsFor(this.metrics, destination.localHost);
    const key = endpointKey(endpoint);
    return new EndpointPool(endpoint, this.settings.connectionsPerEndpoint, (index, onClosed) => {
      return new OutgoingConnection({
        logFields: {
          destination: destination.label,
          endpoint: key,
          ...(endpoint.node ? { remoteNode: endpoint.node } : {}),
          connection: index,
        },
        dial: () => dial(endpoint, material),
        hello: this.hello,
        options: this.options,
        metrics,
        logger: this.logger,
        onStranded: (frames) => destination.resubmit(frames),
        onLinkDown: () => void destination.refresh(),
        onUnreachable: (frames) => destination.resubmit(frames),
        onClosed,
      });
    });
  }

  private handBack(frames: QueuedFrame[]): void {
    const handler = this.undeliverable;
    let dropped = 0;
    for (const frame of frames) {
      if (handler && frame.envelope && !this.closing) handler(frame.envelope);
      else dropped++;
    }
    if (dropped > 0) {
      this.logger.warn({ frames: dropped }, 'undeliverable interlink frames dropped');
    }
  }

  private scheduleGc(): void {
    if (this.gcTimer) clearInterval(this.gcTimer);
    this.gcTimer = setInterval(() => this.collectGarbage(), this.settings.gcIntervalMs).unref();
  }

  private listenerSettings() {
    return {
      tlsEnabled: this.settings.tlsEnabled,
      material: this.material,
      maxStanzaBytes: this.settings.maxStanzaBytes,
    };
  }

  private async handle(work: IncomingWork): Promise<void> {
    if (!this.handler) await new Promise<void>((resolve) => this.handlerWaiters.push(resolve));
    await this.handler!(work.envelope, work.peer);
  }

  private reportHandlerError(error: unknown): void {
    this.handlerErrors++;
    const now = performance.now();
    if (now - this.handlerErrorLoggedAt < HANDLER_ERROR_LOG_INTERVAL_MS) return;
    this.logger.error(
      {
        failures: this.handlerErrors,
        error: error instanceof Error ? error.message : String(error),
      },
      'interlink handler failed on received stanzas',
    );
    this.handlerErrors = 0;
    this.handlerErrorLoggedAt = now;
  }

  private async shutdown(): Promise<void> {
    if (this.gcTimer) clearInterval(this.gcTimer);
    this.gcTimer = null;
    const timeoutMs = this.options.closeTimeoutMs;
    // Incoming first: stanzas still arriving are handled, and what the router answers to them
    // is queued on the outgoing links before those flush and close.
    await this.listener.close(timeoutMs);
    const destinations = [...this.destinations.values()];
    const flushed = await Promise.race([
      Promise.all(destinations.map((destination) => destination.close())).then(() => true),
      delay(timeoutMs).then(() => false),
    ]);
    if (!flushed) {
      const dropped = destinations.reduce((sum, destination) => sum + destination.destroy(), 0);
      this.logger.warn(
        { frames: dropped, timeoutMs },
        'interlink closed before its queues drained',
      );
    }
    this.destinations.clear();
    this.logger.log('interlink closed');
  }
}

function dial(endpoint: PoolEndpoint, material: TlsMaterial | null): DialedSocket {
  if (material) {
    return {
      socket: connectTls(clientTlsOptions(material, endpoint.host, endpoint.port)),
      readyEvent: 'secureConnect',
    };
  }
  return {
    socket: connectTcp({ host: endpoint.host, port: endpoint.port }),
    readyEvent: 'connect',
  };
}

function tryLoadTlsMaterial(files: InterlinkEnv['tls']): TlsMaterial | null {
  try {
    return loadTlsMaterial(files);
  } catch {
    return null;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
