// Real XMPP clients for the c2s tests: xmpp.js (@xmpp/client) over TCP with STARTTLS, or over
// WebSocket (RFC 7395), and SASL PLAIN, the password a JWT signed here with jose. The routers'
// certificate is verified against the test CA (test-tls.ts), never switched off.
import { client, xml, type Client, type XmppError } from '@xmpp/client';
import { SignJWT, type JWTPayload } from 'jose';
import type { Element } from 'ltx';
import { WebSocket as WsWebSocket } from 'ws';

export { xml };

/** auth.jwt.secret of the c2s test configurations (HS256 needs at least 32 characters). */
export const JWT_SECRET = 'meridian-c2s-test-secret-0123456789abcdef';

export interface TokenOptions {
  readonly secret?: string;
  /** Seconds from now; negative for an expired token; null for no exp claim. */
  readonly expiresInS?: number | null;
  readonly claim?: string;
  readonly extra?: JWTPayload;
}

export async function jwtFor(username: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { [options.claim ?? 'sub']: username, ...options.extra };
  let token = new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now - 5);
  const expiresIn = options.expiresInS === undefined ? 3600 : options.expiresInS;
  if (expiresIn !== null) token = token.setExpirationTime(now + expiresIn);
  return token.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

/**
 * xmpp.js's WebSocket transport uses the global WebSocket, which Node has from version 22 on;
 * on Node 20 ws's client, which has the same browser-style surface, stands in for it.
 */
function provideWebSocket(): void {
  const scope = globalThis as { WebSocket?: unknown };
  scope.WebSocket ??= WsWebSocket;
}

export interface ConnectOptions {
  /** C2S_PORT (TCP with STARTTLS), unless `service` is given. */
  readonly port?: number;
  /** Another service URL, e.g. `ws://127.0.0.1:<HTTP_PORT>/xmpp-websocket`. */
  readonly service?: string;
  readonly domain?: string;
  readonly username: string;
  /** The JWT; signed for `username` with the test secret when left out. */
  readonly token?: string;
  readonly resource?: string;
}

export class XmppTestClient {
  readonly received: Element[] = [];
  readonly errors: XmppError[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly xmpp: Client) {
    xmpp.on('stanza', (stanza) => {
      this.received.push(stanza);
      this.wake();
    });
    xmpp.on('error', (error) => {
      this.errors.push(error);
      this.wake();
    });
    xmpp.on('offline', () => this.wake());
  }

  /** Connects, negotiates STARTTLS, logs in and binds; rejects with the server's error. */
  static async connect(options: ConnectOptions): Promise<XmppTestClient> {
    const service = options.service ?? `xmpp://127.0.0.1:${options.port}`;
    if (/^wss?:/.test(service)) provideWebSocket();
    const xmpp = client({
      service,
      domain: options.domain ?? 'example.com',
      username: options.username,
      password: options.token ?? (await jwtFor(options.username)),
      resource: options.resource,
      timeout: 10_000,
    });
    xmpp.reconnect.stop(); // a test decides when to connect again
    const test = new XmppTestClient(xmpp);
    try {
      await xmpp.start();
    } catch (err) {
      await xmpp.stop().catch(() => undefined);
      throw err;
    }
    return test;
  }

  get jid(): string {
    return this.xmpp.jid?.toString() ?? '';
  }

  get online(): boolean {
    return this.xmpp.status === 'online';
  }

  async send(stanza: Element): Promise<void> {
    await this.xmpp.send(stanza);
  }

  async message(to: string, body: string, attrs: Record<string, string> = {}): Promise<void> {
    await this.xmpp.send(xml('message', { to, type: 'chat', ...attrs }, xml('body', {}, body)));
  }

  async presence(attrs: Record<string, string> = {}, ...children: Element[]): Promise<void> {
    await this.xmpp.send(xml('presence', attrs, ...children));
  }

  /** Sends an iq get/set and resolves with the result (rejects with a stanza error). */
  iq(type: 'get' | 'set', payload: Element, to?: string): Promise<Element> {
    return this.xmpp.iqCaller.request(xml('iq', { type, to }, payload), 10_000);
  }

  messages(): Element[] {
    return this.received.filter((s) => s.name === 'message');
  }

  bodies(): string[] {
    return this.messages()
      .filter((s) => s.attrs.type !== 'error')
      .map((s) => s.getChildText('body') ?? '');
  }

  /** Resolves with the first received stanza matching `predicate`. */
  async waitFor(
    predicate: (stanza: Element) => boolean,
    what = 'stanza',
    timeoutMs = 10_000,
  ): Promise<Element> {
    await this.until(() => this.received.some(predicate), `${this.jid}: ${what}`, timeoutMs);
    return this.received.find(predicate)!;
  }

  async waitForBodies(count: number, timeoutMs = 10_000): Promise<string[]> {
    await this.until(
      () => this.bodies().length >= count,
      `${this.jid}: ${count} messages`,
      timeoutMs,
    );
    return this.bodies();
  }

  /** The condition of the first stream error received. */
  async streamError(timeoutMs = 10_000): Promise<string> {
    await this.until(() => this.errors.length > 0, `${this.jid}: a stream error`, timeoutMs);
    return this.errors[0]!.condition ?? this.errors[0]!.message;
  }

  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what} not seen within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    await this.xmpp.stop().catch(() => undefined);
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
