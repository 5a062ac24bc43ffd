// One XEP-0114 connection: the stream header, the handshake, then stanzas both ways. It
// checks what the component sends (namespace, `from` inside its domain) and hands stanzas
// to routing; whether the domain may be served, and by how many instances, is the host's
// business (ComponentsService).
import type { Socket } from 'node:net';
import { clone, escapeXML, escapeXMLText, type Element } from 'ltx';
import type { ComponentDocument, LimitsDocument } from '#config';
import {
  errorReply,
  isBare,
  isDomainJid,
  isErrorStanza,
  parseJid,
  stanzaKind,
  STREAM_NS,
  StreamError,
  XmppStreamParser,
  type StreamEvent,
  type StreamLimits,
} from '#xmpp';
import type { HandshakeFailure } from './component-metrics';
import { newStreamId, provenSecret } from './handshake';

export const COMPONENT_NS = 'jabber:component:accept';
const STREAMS_ERROR_NS = 'urn:ietf:params:xml:ns:xmpp-streams';
/** Namespaces a component may put on a stanza explicitly; all mean "a stanza". */
const STANZA_NAMESPACES = new Set([COMPONENT_NS, 'jabber:client', 'jabber:server']);

/** Stanzas handed to routing and not yet handled; past it, reading pauses (backpressure). */
export const MAX_PENDING_ROUTES = 1_000;
/** Output a component has not read yet; past it, its stream is closed (resource-constraint). */
export const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/** How long a closed stream waits for the peer to close its side before the socket goes. */
const CLOSE_GRACE_MS = 2_000;

export type AdmitOutcome = 'ok' | 'conflict' | 'host-unknown' | 'unavailable' | 'shutdown';

/** What a stream needs from the service that owns it. */
export interface ComponentStreamHost {
  /** The limits of the revision in force. */
  limits(): LimitsDocument;
  /** The configured component serving `domain`, if any. */
  component(domain: string): ComponentDocument | undefined;
  /** Makes an authenticated stream reachable (session table first). */
  admit(stream: ComponentStream): Promise<AdmitOutcome>;
  /** Hands a stanza from the component to routing. */
  route(stanza: Element): Promise<void>;
  /** The stream has ended (called once, whatever ended it); `wasOnline`: after the handshake. */
  ended(stream: ComponentStream, wasOnline: boolean): void;
  handshakeOk(stream: ComponentStream): void;
  handshakeFailed(stream: ComponentStream, reason: HandshakeFailure): void;
  /**
   * Waits for a place among the handshakes checked for the stream's address and domain;
   * returns the function that gives it back, or null when none could be had.
   */
  enterHandshake(stream: ComponentStream): Promise<(() => void) | null>;
  /** A wrong handshake (its secret): how long to wait before answering it (ms). */
  wrongHandshake(stream: ComponentStream): number;
  /** A stanza for the component that no instance can take: its sender hears back. */
  undeliverable(stanza: Element): void;
  stanzaIn(): void;
  stanzaOut(): void;
  streamError(condition: string): void;
  log(level: 'log' | 'warn', fields: Record<string, unknown>, message: string): void;
}

/**
 * `waiting`: the handshake waits for a place to be checked; `refusing`: a wrong handshake waits
 * for its answer, and what follows it is ignored.
 */
type State =
  'header' | 'handshake' | 'waiting' | 'refusing' | 'authenticating' | 'online' | 'closed';

const HANDSHAKE_FAILURE_OF: Readonly<Record<string, HandshakeFailure>> = {
  'not-authorized': 'not-authorized',
  'host-unknown': 'host-unknown',
  conflict: 'conflict',
  'connection-timeout': 'timeout',
  'system-shutdown': 'shutdown',
  'internal-server-error': 'unavailable',
};

export class ComponentStream {
  /** The stream id; also the instance's identity for balancing. */
  readonly id = newStreamId();
  private state: State = 'header';
  private domainName = '';
  /**
   * The secret this stream proved; a revision in which it is neither the component's secret nor
   * its previousSecret ends the stream.
   */
  private provedSecret: string | null = null;
  private readonly parser: XmppStreamParser;
  private headerSent = false;
  private authTimer: NodeJS.Timeout | null;
  private pendingRoutes = 0;
  /** Elements that arrived behind the handshake, before it was answered. */
  private held: Element[] = [];
  /** Stanzas routed to the domain between its registration and the handshake answer. */
  private outbox: Element[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly host: ComponentStreamHost,
  ) {
    const limits = host.limits();
    this.parser = new XmppStreamParser(streamLimits(limits, limits.preAuthStanzaBytes), 'stream');
    this.authTimer = setTimeout(
      () => this.fail('connection-timeout', 'no handshake in time'),
      limits.authTimeoutS * 1000,
    );
    this.authTimer.unref();
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    // Finds a peer that vanished without closing, so its domain does not stay taken.
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => this.onSocketGone());
    socket.on('close', () => this.onSocketGone());
  }

  /** The component domain the stream asked for (empty until the header). */
  get domain(): string {
    return this.domainName;
  }

  get online(): boolean {
    return this.state === 'online';
  }

  /** Online, or admitted and about to be told so: stanzas for it are taken. */
  get accepting(): boolean {
    return this.state === 'online' || this.state === 'authenticating';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get secret(): string | null {
    return this.provedSecret;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  /**
   * Writes a stanza to the component. Returns false when the stream cannot take it (closed,
   * or closed now because the component stopped reading).
   */
  deliver(stanza: Element): boolean {
    if (this.state === 'authenticating') {
      this.outbox.push(stanza);
      return true;
    }
    if (this.state !== 'online') return false;
    this.socket.write(outgoing(stanza).toString());
    this.host.stanzaOut();
    if (this.socket.writableLength > MAX_OUTPUT_BYTES) {
      this.fail('resource-constraint', 'the component does not read its stream');
    }
    return true;
  }

  /** Ends the stream with a stream error (RFC 6120 §4.9). Idempotent. */
  close(condition: string, text?: string): void {
    this.fail(condition, text);
  }

  private onData(chunk: string): void {
    if (this.state === 'closed') return;
    let events: StreamEvent[];
    try {
      events = this.parser.write(chunk);
    } catch (error) {
      if (error instanceof StreamError) this.fail(error.condition, error.message);
      else this.fail('internal-server-error');
      return;
    }
    for (const event of events) {
      if (this.closed) return;
      if (event.kind === 'open') this.onOpen(event.attrs);
      else if (event.kind === 'close') this.onPeerClose();
      else this.onElement(event.element);
    }
  }

  private onOpen(attrs: Readonly<Record<string, string>>): void {
    if (this.state !== 'header') {
      this.fail('not-authorized', 'the stream was already open');
      return;
    }
    // Only a bare domain names a component; anything else is not one of ours.
    const to = parseJid(attrs.to ?? '');
    this.domainName = to && isDomainJid(to) && isBare(to) ? to.domain : '';
    this.sendHeader();
    if (attrs.xmlns !== COMPONENT_NS) {
      this.fail('invalid-namespace', `the stream namespace must be ${COMPONENT_NS}`);
      return;
    }
    if (!this.domainName || !this.host.component(this.domainName)) {
      this.fail('host-unknown', 'no component is configured for this domain');
      return;
    }
    this.state = 'handshake';
  }

  private onElement(element: Element): void {
    switch (this.state) {
      case 'handshake':
        if (element.name !== 'handshake') {
          this.fail('not-authorized', 'a handshake must come first');
          return;
        }
        void this.authenticate(element.getText());
        return;
      case 'waiting':
      case 'authenticating':
        this.held.push(element);
        return;
      case 'online':
        this.onStanza(element);
        return;
      default:
        return;
    }
  }

  private async authenticate(digest: string): Promise<void> {
    this.state = 'waiting';
    const leave = await this.host.enterHandshake(this);
    if (this.closed) {
      leave?.();
      return;
    }
    if (!leave) {
      // XEP-0114 has no "try again later"; the digest was not looked at.
      this.fail('not-authorized', 'too many handshakes in progress', 'too-many-attempts');
      return;
    }
    const component = this.host.component(this.domainName);
    if (!component) {
      leave();
      this.fail('host-unknown', 'no component is configured for this domain');
      return;
    }
    const proved = provenSecret(digest, this.id, component.secret, component.previousSecret);
    if (proved === null) {
      // Answered late, so guesses are slow; a peer that leaves meanwhile gains no time, as
      // the delays are counted per address and domain, and the place is held until the end.
      this.state = 'refusing';
      await sleep(this.host.wrongHandshake(this));
      leave();
      this.fail('not-authorized', 'wrong handshake');
      return;
    }
    // A right handshake needs its place for the check only, not for the admission.
    leave();
    this.state = 'authenticating';
    this.provedSecret = proved;
    let outcome: AdmitOutcome;
    try {
      outcome = await this.host.admit(this);
    } catch {
      outcome = 'unavailable';
    }
    if (this.closed) return; // gone meanwhile; the host releases it
    switch (outcome) {
      case 'conflict':
        this.fail('conflict', 'another instance serves this domain');
        return;
      case 'shutdown':
        this.fail('system-shutdown');
        return;
      case 'host-unknown':
        this.fail('host-unknown', 'no component is configured for this domain');
        return;
      case 'unavailable':
        this.fail('internal-server-error', 'the domain could not be registered; try again');
        return;
      default:
        break;
    }
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.parser.setLimits(streamLimits(this.host.limits(), this.host.limits().maxStanzaBytes));
    this.state = 'online';
    this.socket.write('<handshake/>');
    this.host.handshakeOk(this);
    for (const stanza of this.outbox.splice(0)) this.deliver(stanza);
    // Which secret, never the secret: tells the operator who still has to move to the new one.
    const withPreviousSecret = this.provedSecret !== component.secret;
    this.host.log(
      'log',
      {
        domain: this.domainName,
        stream: this.id,
        ...(withPreviousSecret ? { withPreviousSecret } : {}),
      },
      withPreviousSecret ? 'component online with its previous secret' : 'component online',
    );
    for (const element of this.held.splice(0)) {
      if (this.state !== 'online') return;
      this.onStanza(element);
    }
  }

  private onStanza(element: Element): void {
    if (stanzaKind(element) === null) {
      this.fail('unsupported-stanza-type', `<${element.name}/> is not a stanza`);
      return;
    }
    const xmlns = element.attrs.xmlns;
    if (xmlns !== undefined) {
      if (!STANZA_NAMESPACES.has(xmlns)) {
        this.fail('invalid-namespace', `stanzas are in ${COMPONENT_NS}`);
        return;
      }
      // Routed on as a plain stanza: written to a client stream it reads as jabber:client.
      delete element.attrs.xmlns;
    }
    const from = parseJid(element.attrs.from ?? '');
    if (!from || from.domain !== this.domainName) {
      // ejabberd does the same: a component speaks only for its own domain.
      this.fail('invalid-from', `from must be ${this.domainName} or a JID at it`);
      return;
    }
    if (!parseJid(element.attrs.to ?? '')) {
      if (!isErrorStanza(element)) {
        const reply = errorReply(element, 'modify', 'jid-malformed', 'missing or invalid to');
        delete reply.attrs.from;
        this.deliver(reply);
      }
      return;
    }
    this.host.stanzaIn();
    this.pendingRoutes++;
    if (this.pendingRoutes === MAX_PENDING_ROUTES) this.socket.pause();
    void this.host.route(element).finally(() => {
      this.pendingRoutes--;
      if (this.pendingRoutes === MAX_PENDING_ROUTES - 1 && this.state === 'online') {
        this.socket.resume();
      }
    });
  }

  private onPeerClose(): void {
    if (this.state === 'closed') return;
    this.socket.end('</stream:stream>');
    this.finish();
    this.destroyLater();
  }

  private fail(
    condition: string,
    text?: string,
    reason: HandshakeFailure = HANDSHAKE_FAILURE_OF[condition] ?? 'bad-stream',
  ): void {
    if (this.state === 'closed') return;
    const wasOnline = this.state === 'online';
    if (!wasOnline) this.host.handshakeFailed(this, reason);
    this.host.streamError(condition);
    if (condition !== 'system-shutdown') {
      this.host.log(
        'warn',
        {
          domain: this.domainName || undefined,
          stream: this.id,
          peer: this.remoteAddress,
          condition,
        },
        text ?? 'component stream closed with an error',
      );
    }
    this.sendHeader();
    const body = text ? `<text xmlns='${STREAMS_ERROR_NS}'>${escapeXMLText(text)}</text>` : '';
    this.socket.end(
      `<stream:error><${condition} xmlns='${STREAMS_ERROR_NS}'/>${body}</stream:error></stream:stream>`,
    );
    this.finish();
    this.destroyLater();
  }

  /** RFC 6120 §4.9.1.2: even an error before the header goes out on an opened stream. */
  private sendHeader(): void {
    if (this.headerSent || this.socket.destroyed) return;
    this.headerSent = true;
    const from = this.domainName ? ` from='${escapeXML(this.domainName)}'` : '';
    this.socket.write(
      `<?xml version='1.0'?><stream:stream xmlns:stream='${STREAM_NS}' xmlns='${COMPONENT_NS}' id='${this.id}'${from}>`,
    );
  }

  private onSocketGone(): void {
    if (this.state !== 'closed') this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    const wasOnline = this.state === 'online';
    this.state = 'closed';
    this.held = [];
    for (const stanza of this.outbox.splice(0)) this.host.undeliverable(stanza);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
    this.host.ended(this, wasOnline);
  }

  private destroyLater(): void {
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

function streamLimits(limits: LimitsDocument, maxStanzaBytes: number): StreamLimits {
  return {
    maxStanzaBytes,
    maxDepth: limits.maxDepth,
    maxAttributes: limits.maxAttributes,
    maxAttributeBytes: limits.maxAttributeBytes,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A stanza as the component stream carries it: in the stream's default namespace. */
function outgoing(stanza: Element): Element {
  const xmlns = stanza.attrs.xmlns;
  if (xmlns === undefined || xmlns === COMPONENT_NS) return stanza;
  // Delivered to other sessions too: changed on a copy only.
  const copy = clone(stanza);
  delete copy.attrs.xmlns;
  return copy;
}
