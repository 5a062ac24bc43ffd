// One client stream (RFC 6120): stream header and features, STARTTLS, SASL PLAIN with a JWT,
// resource binding, then stanzas in (from rewritten to the session's full JID, shaped, routed)
// and out (LocalSession.deliver). Transport-neutral: TCP and WebSocket differ only in the
// C2sTransport they hand in. Input is read one chunk at a time and the transport is paused
// while a chunk is handled, so routing, a slow login and the shaper all hold the client back
// instead of queueing its input.
import type { LoggerService } from '@nestjs/common';
import { Element } from 'ltx';
import { randomBase64url, randomHex } from '#common';
import type { LimitsDocument } from '#config';
import {
  bareOf,
  errorReply,
  isErrorStanza,
  jid,
  jidToString,
  parseJid,
  serviceUnavailable,
  stanzaKind,
  StreamError,
  XmppStreamParser,
  type Jid,
  type StreamEvent,
  type StreamLimits,
} from '#xmpp';
import type { RouterConfig } from '../config-sync';
import type { LocalSession } from '../local-delivery/local-session';
import type { C2sMetrics } from './c2s-metrics';
import type { C2sTransport } from './c2s-transport';
import type { FailedAuthThrottle, FailedLoginsPerAccount } from './connection-limits';
import { isolationForbids } from './host-isolation';
import type { JwtLoginVerifier } from './jwt-login';
import type { LoginAttempts } from './login-attempts';
import { priorityOf, type PresenceState } from './presence-selection';
import { validIq, validResource } from './client-stanza-rules';
import { SaslPlainLogin } from './sasl-plain-login';
import {
  serializeStanza,
  streamClose,
  streamError,
  streamFeatures,
  streamHeader,
} from './stream-framing';
import { TokenBucket } from './token-bucket';
import { NS_BIND, NS_CLIENT, NS_REPLACE, NS_SASL, NS_SESSION, NS_TLS } from './xmpp-namespaces';

/** A node holding a session: its datacenter, and the node when known. */
export interface SessionHolder {
  readonly localHost: string;
  readonly node: string | null;
}

/** What a session needs from the router; LocalSessions and Router fit these shapes. */
export interface C2sSessionDeps {
  readonly config: RouterConfig;
  readonly router: {
    route(stanza: Element): Promise<void>;
    deliverAt(stanza: Element, at: SessionHolder): Promise<void>;
  };
  readonly sessions: {
    register(session: LocalSession, options?: { replacing?: boolean }): Promise<void>;
    unregister(session: LocalSession): Promise<void>;
    find(jid: Jid): LocalSession | undefined;
    resourcesOf(bare: Jid): LocalSession[];
  };
  /**
   * Where an older session of this full JID lives on another node or datacenter (the
   * session table; null when none or unknown): the new session tells it to go.
   */
  readonly olderSession: (full: Jid) => Promise<SessionHolder | null>;
  /** This router's datacenter (MERIDIAN_LOCAL_HOST). */
  readonly localHost: string;
  readonly verifier: JwtLoginVerifier;
  readonly authThrottle: FailedAuthThrottle;
  readonly accountThrottle: FailedLoginsPerAccount;
  readonly attempts: LoginAttempts;
  readonly metrics: C2sMetrics;
  readonly logger: LoggerService;
  /** The stream's domain is known (a served one). */
  readonly opened: (session: C2sSession, domain: string) => void;
  /** The session is over; called once. */
  readonly ended: (session: C2sSession) => void;
}

/** Output a client may leave unread: this many times maxStanzaBytes, at least 1 MiB. */
/** Input read but not yet handled, per session, before reading stops (characters). */
const INPUT_HIGH_WATER = 64 * 1024;
const OUTPUT_BOUND_STANZAS = 16;
const MIN_OUTPUT_BOUND = 1 << 20;

type Outcome = 'continue' | 'restart';

export class C2sSession implements LocalSession {
  readonly kind = 'c2s' as const;
  private readonly parser: XmppStreamParser;
  private readonly startedAt = performance.now();
  private readonly replaceToken = randomBase64url(9);
  private streamId = '';
  private domain: string | null = null;
  private headerSent = false;
  private user: Jid | null = null;
  private bound: Jid | null = null;
  /** register() resolved: the session is in LocalSessions and the session table. */
  private registered = false;
  private readonly sasl: SaslPlainLogin;
  private state: PresenceState = { available: false, priority: 0 };
  /** The last available presence broadcast, shown to the user's resources that come online. */
  private lastPresence: Element | null = null;
  private bucket: TokenBucket | null = null;
  private readonly chunks: string[] = [];
  /** Characters in `chunks`; reading stops above INPUT_HIGH_WATER until they are handled. */
  private queuedChars = 0;
  private paused = false;
  private running = false;
  private ended = false;
  private authTimer: NodeJS.Timeout | null;

  constructor(
    private readonly transport: C2sTransport,
    private readonly deps: C2sSessionDeps,
  ) {
    const limits = this.limits;
    this.parser = new XmppStreamParser(
      { ...parserLimits(limits), maxStanzaBytes: limits.preAuthStanzaBytes },
      transport.framing,
    );
    this.sasl = new SaslPlainLogin(deps, (xml) => this.transport.write(xml));
    this.authTimer = setTimeout(() => this.onAuthTimeout(), limits.authTimeoutS * 1000);
    this.authTimer.unref();
    transport.start({ data: (text) => this.onData(text), closed: () => this.onTransportClosed() });
  }

  /** The bound full JID (LocalSession); before binding, the stream's domain. */
  get jid(): Jid {
    return this.bound ?? jid('', this.domain ?? 'unbound.invalid');
  }

  get presence(): PresenceState {
    return this.state;
  }

  get streamDomain(): string | null {
    return this.domain;
  }

  get isBound(): boolean {
    return this.bound !== null;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get transportKind(): 'tcp' | 'websocket' {
    return this.transport.kind;
  }

  /** A new revision's limits apply to the next stanza (after authentication only). */
  applyLimits(limits: LimitsDocument): void {
    if (this.user) this.parser.setLimits(parserLimits(limits));
    this.bucket?.setLimits(limits.stanzasPerSecond, limits.stanzaBurst);
  }

  // ---- LocalSession ------------------------------------------------------------------

  deliver(stanza: Element): boolean {
    // An ending stream takes nothing more: the router routes the stanza again (it may have
    // found this session just before the stream ended).
    if (this.ended || !this.bound || !this.transport.writable) return false;
    if (stanza.name === 'presence' && stanza.getChild('replace', NS_REPLACE)) {
      this.onReplaceNotice(stanza);
      return true;
    }
    const snapshot = this.deps.config.snapshot;
    const from = parseJid(stanza.attrs.from ?? '');
    if (from && isolationForbids(from.domain, this.bound.domain, snapshot)) {
      const error = serviceUnavailable(stanza);
      if (error) void this.deps.router.route(error).catch(() => undefined);
      return true;
    }
    this.writeStanza(stanza);
    return true;
  }

  close(condition: string, text?: string): void {
    this.closeStream(condition, text);
  }

  // ---- input -------------------------------------------------------------------------

  private onData(text: string): void {
    if (this.ended) return;
    this.chunks.push(text);
    this.queuedChars += text.length;
    // Reading stops only when input piles up (a slow route, the shaper's wait): pausing and
    // resuming the socket for every chunk would cost two system calls per read.
    if (this.queuedChars > INPUT_HIGH_WATER && !this.paused) {
      this.paused = true;
      this.transport.pause();
    }
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.ended && this.chunks.length > 0) {
        let events: StreamEvent[];
        const chunk = this.chunks.shift()!;
        this.queuedChars -= chunk.length;
        try {
          events = this.parser.write(chunk);
        } catch (err) {
          if (!(err instanceof StreamError)) throw err;
          this.closeStream(err.condition, err.message);
          return;
        }
        for (const event of events) {
          if (this.ended) break;
          // After a stream restart the rest of the chunk was parsed as the old stream.
          if ((await this.handle(event)) === 'restart') break;
        }
      }
    } catch (err) {
      this.deps.logger.error?.(
        { err, jid: this.bound ? jidToString(this.bound) : undefined },
        'c2s session failed',
      );
      this.closeStream('internal-server-error');
    } finally {
      this.running = false;
      if (this.paused && !this.ended) {
        this.paused = false;
        this.transport.resume();
      }
    }
  }

  private async handle(event: StreamEvent): Promise<Outcome> {
    switch (event.kind) {
      case 'open':
        this.onStreamOpen(event.attrs);
        return 'continue';
      case 'close':
        this.closeStream();
        return 'continue';
      case 'element':
        if (!this.headerSent) {
          this.closeStream('not-well-formed', 'no stream header');
          return 'continue';
        }
        if (!this.user) return this.beforeAuth(event.element);
        if (!this.bound) return this.beforeBind(event.element);
        await this.fromClient(event.element);
        return 'continue';
    }
  }

  // ---- stream negotiation ------------------------------------------------------------

  private onStreamOpen(attrs: Readonly<Record<string, string>>): void {
    const snapshot = this.deps.config.snapshot;
    if (this.transport.framing === 'stream' && attrs.xmlns !== NS_CLIENT) {
      this.closeStream('invalid-namespace', 'the default namespace must be jabber:client');
      return;
    }
    const requested = parseJid(attrs.to ?? '');
    const domain =
      requested && requested.local === '' && requested.resource === '' ? requested.domain : null;
    if (!domain || !this.deps.config.isServedDomain(domain)) {
      this.domain ??= domain && /^[a-z0-9.-]+$/.test(domain) ? domain : snapshot.config.globalHost;
      this.closeStream('host-unknown', 'this server does not serve that domain');
      return;
    }
    if (this.domain !== null && this.domain !== domain) {
      this.closeStream('host-unknown', 'a restarted stream must name the same domain');
      return;
    }
    if (!/^1\.\d+$/.test(attrs.version ?? '')) {
      this.domain = domain;
      this.closeStream('unsupported-version', 'XMPP 1.0 streams only');
      return;
    }
    if (this.domain === null) {
      this.domain = domain;
      this.deps.opened(this, domain);
    }
    this.writeHeader();
    this.transport.write(streamFeatures(this.transport.framing, this.features()));
  }

  private features(): Element[] {
    if (!this.user) {
      const features: Element[] = [];
      const plain = this.plainOffered();
      if (this.transport.canStartTls) {
        const starttls = new Element('starttls', { xmlns: NS_TLS });
        if (!plain) starttls.c('required');
        features.push(starttls);
      }
      if (plain) {
        const mechanisms = new Element('mechanisms', { xmlns: NS_SASL });
        mechanisms.c('mechanism').t('PLAIN');
        features.push(mechanisms);
      }
      return features;
    }
    const session = new Element('session', { xmlns: NS_SESSION });
    session.c('optional');
    return [new Element('bind', { xmlns: NS_BIND }), session];
  }

  /**
   * PLAIN over TLS; before TLS only to a loopback client, and only when auth.allowPlaintext
   * says so (benchmarks on one machine): the switch never sends a token in clear over a
   * network, whatever the configuration.
   */
  private plainOffered(): boolean {
    if (this.transport.secure) return true;
    return this.transport.loopback && this.deps.config.snapshot.config.auth.allowPlaintext;
  }

  private async beforeAuth(element: Element): Promise<Outcome> {
    const xmlns = element.attrs.xmlns;
    if (element.name === 'starttls' && xmlns === NS_TLS) return this.startTls();
    if (xmlns === NS_SASL) {
      const outcome = await this.sasl.handle(element, {
        domain: this.domain!,
        plainOffered: this.plainOffered(),
        tlsFirst: this.transport.canStartTls,
        jwt: this.deps.config.snapshot.config.auth.jwt,
        ip: this.transport.remoteAddress,
        ended: () => this.ended,
      });
      if (outcome.kind === 'exhausted') {
        this.closeStream('policy-violation', 'too many failed authentication attempts');
      }
      if (outcome.kind !== 'success') return 'continue';
      this.user = outcome.user;
      // A new stream follows, with the configured limits instead of the pre-auth ones.
      this.parser.reset();
      this.parser.setLimits(parserLimits(this.limits));
      this.headerSent = false;
      return 'restart';
    }
    if (stanzaKind(element)) {
      this.closeStream('not-authorized', 'authenticate first');
    } else {
      this.closeStream('unsupported-stanza-type', `<${element.name}/> is not supported here`);
    }
    return 'continue';
  }

  private async startTls(): Promise<Outcome> {
    if (!this.transport.canStartTls) {
      // RFC 6120 §5.4.2.2: <failure/>, then the stream is closed.
      this.transport.write(`<failure xmlns='${NS_TLS}'/>`);
      this.closeStream();
      return 'continue';
    }
    this.transport.write(`<proceed xmlns='${NS_TLS}'/>`);
    const handshake = this.transport.startTls();
    this.parser.reset();
    this.headerSent = false;
    try {
      await handshake;
    } catch (err) {
      this.deps.logger.debug?.(
        { ip: this.transport.remoteAddress, reason: (err as Error).message },
        'TLS handshake failed',
      );
      this.ended = true;
      this.transport.destroy();
      this.finish();
    }
    return 'restart';
  }

  private onAuthTimeout(): void {
    this.authTimer = null;
    if (!this.bound) this.closeStream('connection-timeout', 'authentication took too long');
  }

  // ---- binding ---------------------------------------------------------------------

  private async beforeBind(element: Element): Promise<Outcome> {
    if (element.name === 'iq' && element.attrs.type === 'set') {
      const bind = element.getChild('bind', NS_BIND);
      if (bind) {
        await this.bind(element, bind);
        return 'continue';
      }
      if (element.getChild('session', NS_SESSION)) {
        this.transport.write(iqResult(element).toString());
        return 'continue';
      }
    }
    if (stanzaKind(element)) this.closeStream('not-authorized', 'bind a resource first');
    else this.closeStream('unsupported-stanza-type', `<${element.name}/> is not supported here`);
    return 'continue';
  }

  private async bind(iq: Element, bind: Element): Promise<void> {
    const user = this.user!;
    const requested = bind.getChildText('resource')?.trim() ?? '';
    let full: Jid | null;
    if (requested === '') {
      full = jid(user.local, user.domain, randomHex(8));
    } else {
      full = validResource(requested) ? parseJid(`${jidToString(user)}/${requested}`) : null;
      if (!full) {
        this.transport.write(errorReply(iq, 'modify', 'bad-request').toString());
        return;
      }
    }
    this.bound = full;
    try {
      // The newest session wins (ARCHITECTURE §12). A session of this node holding the JID
      // is closed by register(); one elsewhere gets a notice on the node holding it, sent
      // once this session's keys are written: the older session's logout deletes only keys
      // still naming its node, and would otherwise race our write and could delete it.
      const older = this.deps.sessions.find(full) ? null : await this.deps.olderSession(full);
      await this.deps.sessions.register(this, { replacing: older !== null });
      if (older) this.noticeOlderSession(full, older);
    } catch (err) {
      this.bound = null;
      this.deps.logger.warn(
        { jid: jidToString(full), err: (err as Error).message },
        'binding failed: the session table cannot be written',
      );
      this.transport.write(errorReply(iq, 'wait', 'internal-server-error').toString());
      return;
    }
    if (this.ended) {
      // Closed while the session table was written: finish() did not see it registered.
      await this.deps.sessions.unregister(this).catch(() => undefined);
      return;
    }
    this.registered = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    const limits = this.limits;
    this.bucket = new TokenBucket(limits.stanzasPerSecond, limits.stanzaBurst, Date.now());
    this.deps.metrics.sessions.inc({ transport: this.transport.kind });
    this.deps.metrics.loginSeconds.observe((performance.now() - this.startedAt) / 1000);
    this.deps.logger.log(
      { jid: jidToString(full), ip: this.transport.remoteAddress },
      'session bound',
    );
    const result = iqResult(iq);
    result.c('bind', { xmlns: NS_BIND }).c('jid').t(jidToString(full));
    this.transport.write(result.toString());
  }

  /**
   * The notice goes straight to the node holding the older session (Router.deliverAt), not
   * through the session table, which names this session once it is registered. It comes
   * from this datacenter's own domain (`<localHost>/<token>`), which no client or component
   * can send from.
   */
  private noticeOlderSession(full: Jid, older: SessionHolder): void {
    const notice = new Element('presence', {
      from: `${this.deps.localHost}/${this.replaceToken}`,
      to: jidToString(full),
      type: 'unavailable',
    });
    notice.c('replace', { xmlns: NS_REPLACE });
    void this.deps.router.deliverAt(notice, older).catch(() => undefined);
  }

  private onReplaceNotice(notice: Element): void {
    const from = parseJid(notice.attrs.from ?? '');
    const datacenters = this.deps.config.snapshot.config.datacenters;
    // Only a datacenter sends this (clients' `from` is rewritten and the element stripped);
    // our own notice, should it come back here, is ignored.
    if (!from || from.local !== '' || !datacenters.some((dc) => dc.localHost === from.domain)) {
      return;
    }
    if (from.resource === this.replaceToken) return;
    this.closeStream('conflict', 'replaced by a new session');
  }

  // ---- stanzas from the client -------------------------------------------------------

  private async fromClient(stanza: Element): Promise<void> {
    const kind = stanzaKind(stanza);
    if (!kind || (stanza.attrs.xmlns !== undefined && stanza.attrs.xmlns !== NS_CLIENT)) {
      this.closeStream('unsupported-stanza-type', `<${stanza.name}/> is not supported here`);
      return;
    }
    await this.shape();
    if (this.ended) return;
    this.deps.metrics.stanzasIn.inc({ kind });
    delete stanza.attrs.xmlns;
    // Meridian's own notice never comes from a client.
    if (stanza.getChild('replace', NS_REPLACE)) return;

    const self = this.bound!;
    const selfAddress = jidToString(self);
    if (kind === 'iq' && stanza.attrs.type === 'set') {
      if (stanza.getChild('session', NS_SESSION)) {
        this.writeStanza(iqResult(stanza, selfAddress));
        return;
      }
      if (stanza.getChild('bind', NS_BIND)) {
        stanza.attrs.from = selfAddress;
        this.writeStanza(errorReply(stanza, 'cancel', 'not-allowed'));
        return;
      }
    }
    if (kind === 'iq' && !validIq(stanza)) {
      if (isErrorStanza(stanza) || stanza.attrs.type === 'result') return;
      stanza.attrs.from = selfAddress;
      this.writeStanza(errorReply(stanza, 'modify', 'bad-request'));
      return;
    }

    let to: Jid | null;
    if (stanza.attrs.to === undefined || stanza.attrs.to === '') {
      // RFC 6120 §8.1.1.1: no `to` means the account's bare JID; for presence, a broadcast.
      if (kind === 'presence' && !this.onBroadcastPresence(stanza)) return;
      to = bareOf(self);
    } else {
      to = parseJid(stanza.attrs.to);
      if (!to) {
        stanza.attrs.from = selfAddress;
        const error = errorReply(stanza, 'modify', 'jid-malformed');
        error.attrs.from = self.domain;
        if (!isErrorStanza(stanza) && kind !== 'presence') this.writeStanza(error);
        return;
      }
    }
    // Spoofing is impossible: the sender is always this session.
    stanza.attrs.from = selfAddress;
    stanza.attrs.to = jidToString(to);
    if (isolationForbids(self.domain, to.domain, this.deps.config.snapshot)) {
      const error = serviceUnavailable(stanza);
      if (error) this.writeStanza(error);
      return;
    }
    try {
      await this.deps.router.route(stanza);
    } catch (err) {
      this.deps.logger.warn(
        { jid: selfAddress, stanzaId: stanza.attrs.id, err: (err as Error).message },
        'routing failed',
      );
    }
  }

  /** Available or unavailable presence with no `to` (RFC 6121 §4.2, §4.5). False: dropped. */
  private onBroadcastPresence(presence: Element): boolean {
    const type = presence.attrs.type;
    if (type === undefined) {
      const initial = !this.state.available;
      this.state = { available: true, priority: priorityOf(presence) };
      this.lastPresence = presence;
      // RFC 6121 §4.2.2: a resource coming online learns of the user's other available
      // resources (those of this node: the others are not known here).
      if (initial) this.showOwnResources();
      return true;
    }
    if (type === 'unavailable') {
      this.state = { available: false, priority: this.state.priority };
      this.lastPresence = null;
      return true;
    }
    return false;
  }

  private showOwnResources(): void {
    for (const other of this.deps.sessions.resourcesOf(bareOf(this.bound!))) {
      if (other === this || !(other instanceof C2sSession)) continue;
      if (other.state.available && other.lastPresence) this.writeStanza(other.lastPresence);
    }
  }

  private async shape(): Promise<void> {
    const bucket = this.bucket;
    if (!bucket) return;
    let wait = bucket.take(Date.now());
    if (wait > 0) this.deps.metrics.shaped.inc();
    while (wait > 0 && !this.ended) {
      await sleep(wait);
      wait = bucket.take(Date.now());
    }
  }

  // ---- output and closing ------------------------------------------------------------

  private writeStanza(stanza: Element): void {
    if (this.ended) return;
    this.transport.write(serializeStanza(this.transport.framing, stanza));
    this.deps.metrics.stanzasOut.inc({ kind: stanza.name });
    const bound = Math.max(MIN_OUTPUT_BOUND, OUTPUT_BOUND_STANZAS * this.limits.maxStanzaBytes);
    if (this.transport.pendingOutputBytes > bound) {
      this.deps.logger.warn(
        {
          jid: this.bound ? jidToString(this.bound) : undefined,
          pending: this.transport.pendingOutputBytes,
        },
        'client does not read its stream: closing it',
      );
      this.closeStream('policy-violation', 'too much unread output', true);
    }
  }

  private writeHeader(): void {
    this.streamId = randomHex(12);
    const from = this.domain ?? this.deps.config.snapshot.config.globalHost;
    this.transport.write(streamHeader(this.transport.framing, { id: this.streamId, from }));
    this.headerSent = true;
  }

  /** Ends the stream: a stream error if a condition is given, then the closing tag. */
  private closeStream(condition?: string, text?: string, abort = false): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.headerSent) this.writeHeader();
    if (condition) {
      this.transport.write(streamError(this.transport.framing, condition, text));
      this.deps.metrics.streamErrors.inc({ condition });
      this.deps.logger.debug?.(
        {
          jid: this.bound ? jidToString(this.bound) : undefined,
          ip: this.transport.remoteAddress,
          condition,
          text,
        },
        'stream error sent',
      );
    }
    this.transport.write(streamClose(this.transport.framing));
    if (abort) this.transport.destroy();
    else this.transport.end();
    this.finish();
  }

  private onTransportClosed(): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.finish();
  }

  private finishing: Promise<void> | null = null;

  /** Resolves once the session is unregistered; safe to call more than once. */
  finished(): Promise<void> {
    return this.finishing ?? Promise.resolve();
  }

  private finish(): void {
    this.finishing ??= this.finishNow();
  }

  private async finishNow(): Promise<void> {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.chunks.length = 0;
    this.queuedChars = 0;
    this.deps.ended(this);
    const full = this.bound;
    if (!full || !this.registered) return;
    this.deps.metrics.sessions.dec({ transport: this.transport.kind });
    if (this.state.available) {
      // RFC 6121 §4.5.2: the server says unavailable for a session that ends without it.
      this.state = { available: false, priority: this.state.priority };
      const address = jidToString(full);
      const unavailable = new Element('presence', {
        from: address,
        to: jidToString(bareOf(full)),
        type: 'unavailable',
      });
      await this.deps.router.route(unavailable).catch(() => undefined);
    }
    try {
      await this.deps.sessions.unregister(this);
    } catch (err) {
      this.deps.logger.warn(
        { jid: jidToString(full), err: (err as Error).message },
        'logout not written to the session table (the entry will expire)',
      );
    }
    this.deps.logger.log({ jid: jidToString(full) }, 'session ended');
  }

  private get limits(): LimitsDocument {
    return this.deps.config.snapshot.config.limits;
  }
}

function parserLimits(limits: LimitsDocument): StreamLimits {
  return {
    maxStanzaBytes: limits.maxStanzaBytes,
    maxDepth: limits.maxDepth,
    maxAttributes: limits.maxAttributes,
    maxAttributeBytes: limits.maxAttributeBytes,
  };
}

function iqResult(iq: Element, to?: string): Element {
  return new Element('iq', { type: 'result', id: iq.attrs.id, to });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
