// A c2s session for load generation that speaks XMPP with string operations only: no XML
// library on its path, so the client costs far less per message than the servers it measures
// and the same client can drive Meridian and any other XMPP server. It logs in (optional
// STARTTLS, SASL PLAIN, bind), then hands every complete <message/> it receives to a callback
// as the raw text of its opening tag and body. Anything else after login (presence, iq) is
// skipped. It understands only what servers send to a well-behaved client; it is not a parser.
import net from 'node:net';
import tls from 'node:tls';

export interface XmppTarget {
  readonly host: string;
  readonly port: number;
  /** The XMPP domain in the stream header and JIDs. */
  readonly domain: string;
  /** 'if-required': STARTTLS only when the server requires it; 'always' when it offers it. */
  readonly tls: 'never' | 'if-required' | 'always';
  /** CA to verify the server's certificate after STARTTLS. */
  readonly ca?: string | Buffer;
}

export interface XmppAccount {
  readonly localpart: string;
  readonly password: string;
  readonly resource: string;
}

/**
 * Called for each <message/>: `body` its body text or ''; for a message of type error, `error`
 * is the whole stanza (for reports), otherwise null.
 */
export type MessageHandler = (body: string, error: string | null) => void;

const LOGIN_TIMEOUT_MS = 30_000;
const MAX_BUFFER = 4 * 1024 * 1024;

const streamHeader = (domain: string) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

export class RawXmppSession {
  private socket: net.Socket | tls.TLSSocket | null = null;
  private buffer = '';
  private outgoing = '';
  private flushScheduled = false;
  private onMessage: MessageHandler | null = null;
  private waiter: { test: () => boolean; resolve: () => void } | null = null;
  private failure: Error | null = null;
  private fail: (error: Error) => void = () => {};
  /** The full JID the server bound. */
  jid = '';
  closed = false;

  constructor(
    private readonly target: XmppTarget,
    private readonly account: XmppAccount,
  ) {}

  /** Connects and logs in; resolves when bound (and initial presence sent, if asked). */
  async login(options: { presence: boolean }): Promise<void> {
    const failed = new Promise<never>((_, reject) => {
      this.fail = (error) => {
        this.failure ??= error;
        reject(this.failure);
      };
    });
    failed.catch(() => {});
    const timer = setTimeout(
      () => this.fail(new Error(`login of ${this.account.localpart} timed out`)),
      LOGIN_TIMEOUT_MS,
    );
    try {
      await Promise.race([this.negotiate(options), failed]);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async negotiate(options: { presence: boolean }): Promise<void> {
    const { host, port, domain } = this.target;
    const plain = net.connect({ host, port });
    plain.setNoDelay(true);
    this.attach(plain);
    await new Promise<void>((resolve) => plain.once('connect', resolve));

    let features = await this.openStream();
    const offersTls = features.includes('<starttls');
    const mustTls = offersTls && /<starttls[^>]*>\s*<required/.test(features);
    if (this.target.tls === 'always' && !offersTls) throw new Error('server offers no STARTTLS');
    if (offersTls && (mustTls || this.target.tls === 'always')) {
      if (this.target.tls === 'never') throw new Error('server requires STARTTLS (use TLS)');
      this.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
      await this.until('<proceed', '<failure');
      this.buffer = '';
      plain.removeAllListeners('data');
      const secure = tls.connect({ socket: plain, servername: domain, ca: this.target.ca });
      this.attach(secure);
      await new Promise<void>((resolve) => secure.once('secureConnect', resolve));
      features = await this.openStream();
    }
    if (!/<mechanism>PLAIN<\/mechanism>/.test(features)) {
      throw new Error(`server offers no SASL PLAIN here: ${features.slice(0, 300)}`);
    }
    const credentials = Buffer.from(`\0${this.account.localpart}\0${this.account.password}`);
    this.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>` +
        `${credentials.toString('base64')}</auth>`,
    );
    const answer = await this.until('<success', '<failure');
    if (answer.includes('<failure')) {
      throw new Error(`login of ${this.account.localpart} refused: ${answer.slice(0, 200)}`);
    }
    this.buffer = '';
    await this.openStream();
    this.send(
      `<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
        `<resource>${this.account.resource}</resource></bind></iq>`,
    );
    const bound = await this.until('</iq>');
    const jid = /<jid>([^<]+)<\/jid>/.exec(bound);
    if (!jid) throw new Error(`bind failed: ${bound.slice(0, 200)}`);
    this.jid = jid[1]!;
    this.buffer = this.buffer.slice(this.buffer.indexOf('</iq>') + 5);
    if (options.presence) this.send('<presence/>');
  }

  /** Sends a stream header; resolves with the features that follow it. */
  private async openStream(): Promise<string> {
    this.send(streamHeader(this.target.domain));
    const text = await this.until('</stream:features>');
    const end = this.buffer.indexOf('</stream:features>') + '</stream:features>'.length;
    this.buffer = this.buffer.slice(end);
    return text.slice(0, text.indexOf('</stream:features>'));
  }

  /** Resolves with the buffer once it contains one of `marks`; fails on a stream error. */
  private until(...marks: string[]): Promise<string> {
    const test = () =>
      marks.some((mark) => this.buffer.includes(mark)) ||
      this.buffer.includes('<stream:error') ||
      this.buffer.includes('</stream:stream>');
    return new Promise<void>((resolve) => {
      this.waiter = { test, resolve };
      this.check();
    }).then(() => {
      if (!marks.some((mark) => this.buffer.includes(mark))) {
        throw new Error(`stream closed by the server: ${this.buffer.slice(0, 300)}`);
      }
      return this.buffer;
    });
  }

  private check(): void {
    if (this.waiter?.test()) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve();
    }
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      if (this.waiter) this.check();
      else if (this.onMessage) this.drainMessages();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
    });
  }

  /** After login: every complete <message/> in the buffer goes to the handler. */
  listen(handler: MessageHandler): void {
    this.onMessage = handler;
    this.drainMessages();
  }

  private drainMessages(): void {
    const handler = this.onMessage!;
    const buffer = this.buffer;
    let at = 0;
    for (;;) {
      const start = buffer.indexOf('<message', at);
      if (start === -1) {
        // Keep a possible partial '<message' tail only.
        const lt = buffer.lastIndexOf('<');
        at = lt >= at ? lt : buffer.length;
        break;
      }
      const end = buffer.indexOf('</message>', start);
      if (end === -1) {
        at = start;
        break;
      }
      const tagEnd = buffer.indexOf('>', start);
      const tag = buffer.slice(start, tagEnd);
      const error = tag.includes("type='error'") || tag.includes('type="error"');
      const bodyStart = buffer.indexOf('<body>', tagEnd);
      const body =
        bodyStart !== -1 && bodyStart < end
          ? buffer.slice(bodyStart + 6, buffer.indexOf('</body>', bodyStart))
          : '';
      at = end + 10;
      handler(body, error ? buffer.slice(start, end + 10) : null);
    }
    this.buffer = at === 0 ? buffer : buffer.slice(at);
    if (this.buffer.length > MAX_BUFFER) {
      this.fail(new Error('more than 4 MiB without a complete stanza'));
      this.close();
    }
  }

  /** Queues text; everything queued in one turn of the event loop goes out in one write. */
  send(text: string): void {
    this.outgoing += text;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || !this.socket || this.socket.destroyed) return;
    this.socket.write(this.outgoing);
    this.outgoing = '';
  }

  /** Bytes queued in the socket, for callers that bound what they send. */
  get pendingBytes(): number {
    return (this.socket?.writableLength ?? 0) + this.outgoing.length;
  }

  /** Ends the stream politely and waits briefly for the close. */
  async end(): Promise<void> {
    if (!this.socket || this.socket.destroyed) return;
    this.flush();
    const socket = this.socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end('</stream:stream>');
    const timer = setTimeout(() => socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  close(): void {
    this.socket?.destroy();
  }
}
