// The C2S_PORT listener and the registry of this node's client streams: accepts connections
// (bounded per IP address), hands each to a C2sSession over its transport, applies new
// limits, closes the streams of a domain that is disabled, and closes everything with
// `system-shutdown` when the router stops. `openSession` is also the entry point for other
// transports (WebSocket).
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createServer, type Server, type Socket } from 'node:net';
import type { LimitsDocument } from '#config';
import type { Jid } from '#xmpp';
import { BootError, describeListenError } from '../boot/boot-error';
import { RouterConfig, type DomainChange } from '../config-sync';
import { ROUTER_ENV, type RouterEnv } from '../env/router-env';
import { LocalSessions } from '../local-delivery/local-sessions';
import { Router } from '../routing/router.service';
import { SessionTable } from '../session-table';
import { C2sMetrics } from './c2s-metrics';
import { C2sSession, type C2sSessionDeps, type SessionHolder } from './c2s-session';
import { C2sTls } from './c2s-tls';
import type { C2sTransport } from './c2s-transport';
import { ConnectionsPerIp, FailedAuthThrottle, FailedLoginsPerAccount } from './connection-limits';
import { JwtLoginVerifier } from './jwt-login';
import { LoginAttempts } from './login-attempts';
import { streamClose, streamError, streamHeader } from './stream-framing';
import { TcpTransport } from './tcp-transport';

/** How long shutdown waits for streams to be closed and unregistered. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

@Injectable()
export class C2sServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('C2s');
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<C2sSession>();
  private readonly byDomain = new Map<string, Set<C2sSession>>();
  private readonly perIp = new ConnectionsPerIp();
  private readonly deps: C2sSessionDeps;
  private limits: LimitsDocument | null = null;
  private closing = false;
  private port: number | null = null;

  constructor(
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly config: RouterConfig,
    router: Router,
    sessions: LocalSessions,
    private readonly tls: C2sTls,
    private readonly metrics: C2sMetrics,
    private readonly table: SessionTable,
  ) {
    this.deps = {
      config,
      router,
      sessions,
      olderSession: (full) => this.olderSession(full),
      localHost: env.localHost,
      verifier: new JwtLoginVerifier(),
      authThrottle: new FailedAuthThrottle(),
      accountThrottle: new FailedLoginsPerAccount(),
      attempts: new LoginAttempts(),
      metrics,
      logger: this.logger,
      opened: (session, domain) => this.onOpened(session, domain),
      ended: (session) => this.onEnded(session),
    };
  }

  /** The port bound (the real one when C2S_PORT is 0). */
  get listenPort(): number | null {
    return this.port;
  }

  /** Client streams open on this node, bound or not. */
  get streamCount(): number {
    return this.streams.size;
  }

  async onModuleInit(): Promise<void> {
    const { config } = this.config.snapshot;
    this.limits = config.limits;
    this.tls.load(config.auth.allowPlaintext, true);
    this.config.onChange((next) =>
      this.onRevision(next.config.limits, next.config.auth.allowPlaintext),
    );
    this.config.onDomainChange((changes) => this.onDomainChange(changes));
    try {
      this.port = await this.listen(this.env.c2sPort);
    } catch (err) {
      throw new BootError(describeListenError(err, 'C2S_PORT', this.env.c2sPort), { cause: err });
    }
    this.logger.log(
      { port: this.port, starttls: this.tls.secureContext !== null },
      'c2s listening',
    );
  }

  /** Router shutdown, first step: no new clients; every stream ends with system-shutdown. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : null;
    const streams = [...this.streams];
    for (const session of streams) session.close('system-shutdown', 'the server is stopping');
    const done = Promise.all(streams.map((session) => session.finished()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await closed;
    if (streams.length > 0) this.logger.log(`Closed ${streams.length} client streams`);
  }

  /**
   * A new client connection on any transport. Refused (stream error, then closed) when its IP
   * address has `maxConnectionsPerIp` open already or the router is stopping.
   */
  openSession(transport: C2sTransport): C2sSession | null {
    const limits = this.config.snapshot.config.limits;
    const ip = transport.remoteAddress;
    if (this.closing) {
      this.refuse(transport, 'system-shutdown', 'the server is stopping', 'shutdown');
      return null;
    }
    if (!this.perIp.tryAcquire(ip, limits.maxConnectionsPerIp)) {
      this.refuse(
        transport,
        'policy-violation',
        'too many connections from your address',
        'per-ip',
      );
      return null;
    }
    this.metrics.connections.inc({ transport: transport.kind });
    const session = new C2sSession(transport, this.deps);
    this.streams.add(session);
    return session;
  }

  /** The node of another session of this full JID, unless it is this node or gone. */
  private async olderSession(full: Jid): Promise<SessionHolder | null> {
    let holder: SessionHolder | null;
    try {
      holder = await this.table.holderOf(full);
    } catch {
      return null; // Redis cannot answer: registering fails the same way
    }
    if (!holder) return null;
    if (holder.localHost !== this.env.localHost) return holder;
    return holder.node !== null && holder.node !== this.env.node ? holder : null;
  }

  private listen(port: number): Promise<number> {
    // Half-open: a client's FIN does not end our side before the session has written what
    // was already delivered to it (TcpTransport ends it right after).
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) =>
      this.onConnection(socket),
    );
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err: err.message }, 'c2s listener error'));
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    this.openSession(new TcpTransport(socket, () => this.tls.secureContext));
  }

  private refuse(transport: C2sTransport, condition: string, text: string, reason: string): void {
    this.metrics.refusedConnections.inc({ reason });
    const from = this.config.snapshot.config.globalHost;
    transport.write(streamHeader(transport.framing, { id: 'refused', from }));
    transport.write(streamError(transport.framing, condition, text));
    transport.write(streamClose(transport.framing));
    transport.end();
  }

  private onOpened(session: C2sSession, domain: string): void {
    let sessions = this.byDomain.get(domain);
    if (!sessions) this.byDomain.set(domain, (sessions = new Set()));
    sessions.add(session);
  }

  private onEnded(session: C2sSession): void {
    if (!this.streams.delete(session)) return;
    this.perIp.release(session.remoteAddress);
    this.metrics.connections.dec({ transport: transportOf(session) });
    const domain = session.streamDomain;
    const sessions = domain ? this.byDomain.get(domain) : undefined;
    if (sessions?.delete(session) && sessions.size === 0) this.byDomain.delete(domain!);
  }

  private onRevision(limits: LimitsDocument, allowPlaintext: boolean): void {
    this.tls.load(allowPlaintext);
    if (this.limits && sameLimits(this.limits, limits)) return;
    this.limits = limits;
    for (const session of this.streams) session.applyLimits(limits);
  }

  /** A domain disabled or removed: its streams end with host-unknown (ARCHITECTURE §12). */
  private onDomainChange(changes: readonly DomainChange[]): void {
    for (const change of changes) {
      if (change.next?.enabled) continue;
      const domain = change.domain;
      if (domain === this.config.snapshot.config.globalHost) continue;
      const sessions = this.byDomain.get(domain);
      if (!sessions) continue;
      this.logger.log({ domain, sessions: sessions.size }, 'domain disabled: closing its streams');
      for (const session of [...sessions]) {
        session.close('host-unknown', 'this domain is no longer served');
      }
    }
  }
}

function transportOf(session: C2sSession): 'tcp' | 'websocket' {
  return session.transportKind;
}

function sameLimits(a: LimitsDocument, b: LimitsDocument): boolean {
  return (Object.keys(a) as (keyof LimitsDocument)[]).every((key) => a[key] === b[key]);
}
