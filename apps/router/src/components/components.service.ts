// The component edge (XEP-0114) of this node: the listener on COMPONENT_PORT, the streams it
// accepts, and the domains they serve. A domain is registered once per node (one
// LocalSession, ComponentDomain) however many instances serve it; registrations and
// departures of one domain run one at a time, so the session table never sees them cross.
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createServer, type Server, type Socket } from 'node:net';
import type { Element } from 'ltx';
import type { ComponentDocument, LimitsDocument } from '#config';
import { serviceUnavailable } from '#xmpp';
import { BootError, describeListenError } from '../boot/boot-error';
import { RouterConfig, type RouterSnapshot } from '../config-sync';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { LocalSessions } from '../local-delivery/local-sessions';
import { Router } from '../routing/router.service';
import { SessionTable } from '../session-table';
import { ComponentDomain } from './component-domain';
import { ComponentMetrics, type HandshakeFailure } from './component-metrics';
import { ComponentStream, type AdmitOutcome, type ComponentStreamHost } from './component-stream';
import { FailedHandshakes } from './failed-handshakes';
import { HandshakeAttempts } from './handshake-attempts';

/** How long shutdown waits for components to close their side before cutting the sockets. */
const SHUTDOWN_GRACE_MS = 1_000;
/** How long shutdown waits for the domains to leave the session table. */
const SHUTDOWN_UNREGISTER_MS = 5_000;

/** Whether `work` settled within `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class ComponentsService implements OnModuleInit, OnModuleDestroy, ComponentStreamHost {
  private readonly logger = new Logger('Components');
  private server: Server | null = null;
  private boundPort: number | null = null;
  private readonly streams = new Set<ComponentStream>();
  private readonly sockets = new Set<Socket>();
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly failedHandshakes = new FailedHandshakes();
  private readonly handshakeAttempts = new HandshakeAttempts();
  /** Domains with at least one admitted instance on this node. */
  private readonly domains = new Map<string, ComponentDomain>();
  /** Per domain, the tail of its admissions and departures (run one at a time). */
  private readonly lanes = new Map<string, Promise<void>>();
  private configured = new Map<string, ComponentDocument>();
  private stopping = false;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly config: RouterConfig,
    private readonly sessions: LocalSessions,
    private readonly router: Router,
    private readonly table: SessionTable,
    private readonly metrics: ComponentMetrics,
  ) {}

  /** The port the listener is bound to (the real one when COMPONENT_PORT is 0). */
  get port(): number | null {
    return this.boundPort;
  }

  /** Authenticated instances on this node, by domain. */
  instanceCounts(): Map<string, number> {
    return new Map([...this.domains].map(([domain, d]) => [domain, d.instances.length]));
  }

  async onModuleInit(): Promise<void> {
    // ConfigSyncModule holds boot until a revision is applied, so the snapshot is there.
    this.applyRevision(this.config.snapshot);
    this.config.onChange((next) => this.applyRevision(next));
    try {
      await this.listen();
    } catch (err) {
      throw new BootError(describeListenError(err, 'COMPONENT_PORT', this.env.componentPort), {
        cause: err,
      });
    }
    this.logger.log(`Accepting components (XEP-0114) on port ${this.boundPort}`);
  }

  /**
   * Shutdown: stop accepting, end every component stream with `system-shutdown`, and take
   * the domains out of the session table (before it stops, in beforeApplicationShutdown).
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const stream of [...this.streams]) stream.close('system-shutdown');
    // Each closed stream queued its domain's departure; a Redis that does not answer must not
    // hold the exit (the entries then expire).
    const departed = (async () => {
      while (this.lanes.size > 0) await Promise.allSettled([...this.lanes.values()]);
    })();
    if (!(await within(departed, SHUTDOWN_UNREGISTER_MS))) {
      this.logger.warn('Component domains not all removed from Redis in time; they will expire');
    }
    // Components that do not close their side in time are cut off.
    await within(closed, SHUTDOWN_GRACE_MS);
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  // ---- ComponentStreamHost -------------------------------------------------------------

  limits(): LimitsDocument {
    return this.config.snapshot.config.limits;
  }

  component(domain: string): ComponentDocument | undefined {
    return this.configured.get(domain);
  }

  admit(stream: ComponentStream): Promise<AdmitOutcome> {
    const name = stream.domain;
    return this.serially(name, async (): Promise<AdmitOutcome> => {
      if (this.stopping) return 'shutdown';
      const config = this.configured.get(name);
      if (!config) return 'host-unknown';
      const existing = this.domains.get(name);
      if (existing) {
        if (!config.balancing) return 'conflict';
        existing.add(stream);
        return 'ok';
      }
      if (!config.balancing && (await this.servedElsewhere(name))) return 'conflict';
      const domain = new ComponentDomain(
        name,
        () => this.configured.get(name)?.balancing,
        (stanza) => this.undeliverable(stanza),
      );
      domain.add(stream);
      this.domains.set(name, domain);
      try {
        // Redis holds `<domain> -> <localHost>` and the node's {domains} entry before the
        // component is told it is online: from then on every datacenter routes to it.
        await this.sessions.register(domain);
      } catch (err) {
        this.domains.delete(name);
        this.logger.warn({ domain: name, err }, 'component domain could not be registered');
        return 'unavailable';
      }
      return 'ok';
    });
  }

  route(stanza: Element): Promise<void> {
    return this.router.route(stanza);
  }

  ended(stream: ComponentStream, wasOnline: boolean): void {
    this.streams.delete(stream);
    if (wasOnline) this.metrics.sessions.dec();
    if (stream.domain) void this.serially(stream.domain, () => this.release(stream));
  }

  undeliverable(stanza: Element): void {
    const error = serviceUnavailable(stanza);
    if (error) void this.router.route(error);
  }

  handshakeOk(): void {
    this.metrics.handshakeOk();
    this.metrics.sessions.inc();
  }

  handshakeFailed(_stream: ComponentStream, reason: HandshakeFailure): void {
    this.metrics.handshakeFailed(reason);
  }

  enterHandshake(stream: ComponentStream): Promise<(() => void) | null> {
    return this.handshakeAttempts.enter(stream.remoteAddress, stream.domain);
  }

  wrongHandshake(stream: ComponentStream): number {
    return this.failedHandshakes.failed(stream.remoteAddress, stream.domain);
  }

  stanzaIn(): void {
    this.metrics.stanzasIn.inc();
  }

  stanzaOut(): void {
    this.metrics.stanzasOut.inc();
  }

  streamError(condition: string): void {
    this.metrics.streamErrors.inc({ condition });
  }

  log(level: 'log' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.logger[level](fields, message);
  }

  // ---- internals -----------------------------------------------------------------------

  private listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.env.componentPort }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err }, 'component listener error'));
        const address = server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : null;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const ip = socket.remoteAddress ?? '';
    const count = (this.connectionsPerIp.get(ip) ?? 0) + 1;
    this.connectionsPerIp.set(ip, count);
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      const left = (this.connectionsPerIp.get(ip) ?? 1) - 1;
      if (left > 0) this.connectionsPerIp.set(ip, left);
      else this.connectionsPerIp.delete(ip);
    });
    const stream = new ComponentStream(socket, this);
    this.streams.add(stream);
    if (count > this.limits().maxConnectionsPerIp) {
      stream.close('policy-violation', 'too many connections from this address');
    }
  }

  /**
   * Without balancing a domain has one instance in the whole service: is it served by
   * another node of this datacenter, or by another datacenter? Read fresh from Redis.
   */
  private async servedElsewhere(domain: string): Promise<boolean> {
    const jid = { local: '', domain, resource: '' };
    this.table.forget(jid);
    const location = await this.table.lookup(jid);
    if (!location) return false;
    if (location.localHost !== this.env.localHost) return true;
    // Here: only a live node counts (the entry of a node that died expires by itself).
    const nodes = await this.table.nodesOfDomain(domain);
    return nodes.some((node) => node !== this.env.node);
  }

  private async release(stream: ComponentStream): Promise<void> {
    const domain = this.domains.get(stream.domain);
    if (!domain || !domain.remove(stream)) return;
    if (domain.instances.length > 0) return;
    this.domains.delete(stream.domain);
    try {
      await this.sessions.unregister(domain);
    } catch (err) {
      this.logger.warn(
        { domain: stream.domain, err },
        'component domain could not be removed from the session table; it will expire',
      );
    }
  }

  /**
   * A new revision: streams of a component that is gone end with `host-unknown`, streams
   * that proved a secret no longer valid (neither its `secret` nor its `previousSecret`) with
   * `not-authorized`, so a rotation that keeps the old secret as `previousSecret` closes
   * nothing; a domain whose balancing was turned off keeps its oldest instance and the others
   * end with `conflict`.
   */
  private applyRevision(snapshot: RouterSnapshot): void {
    this.configured = new Map(
      snapshot.config.components.map((component) => [component.domain.toLowerCase(), component]),
    );
    for (const stream of [...this.streams]) {
      if (!stream.domain || stream.closed) continue;
      const component = this.configured.get(stream.domain);
      if (!component) stream.close('host-unknown', 'the component was removed');
      else if (
        stream.secret !== null &&
        stream.secret !== component.secret &&
        stream.secret !== component.previousSecret
      ) {
        stream.close('not-authorized', 'the component secret changed');
      }
    }
    for (const domain of this.domains.values()) {
      if (this.configured.get(domain.domain)?.balancing) continue;
      for (const extra of domain.instances.slice(1)) {
        extra.close('conflict', 'balancing was turned off; the oldest instance stays');
      }
    }
  }

  private serially<T>(domain: string, task: () => Promise<T>): Promise<T> {
    const previous = this.lanes.get(domain) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.lanes.set(domain, tail);
    void tail.then(() => {
      if (this.lanes.get(domain) === tail) this.lanes.delete(domain);
    });
    return run;
  }
}
