// A c2s client written by hand: raw text over TCP, STARTTLS against the test CA, and nothing
// else, so tests can send what no client library would (broken XML, stalls, guesses) and stop
// reading at will. Every stream opened is remembered until RawStream.closeAll().
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { until } from './router-cluster';
import { testTls } from './test-tls';

/** A client stream header to example.com (or `domain`), with the XML declaration. */
export function streamOpen(domain = 'example.com'): string {
  return (
    `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
    `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`
  );
}

export class RawStream {
  private static readonly opened = new Set<RawStream>();
  /** Everything received so far (since the last reset). */
  text = '';
  private ended = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.ended = true));
    RawStream.opened.add(this);
  }

  /** Connects to 127.0.0.1 (or `host`), from `localAddress` when given. */
  static open(
    port: number,
    options: { host?: string; localAddress?: string } = {},
  ): Promise<RawStream> {
    const { host = '127.0.0.1', localAddress } = options;
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ port, host, localAddress }, () => resolve(new RawStream(socket)));
      socket.once('error', reject);
    });
  }

  /** Destroys every stream opened so far (for afterEach). */
  static closeAll(): void {
    for (const stream of RawStream.opened) stream.close();
    RawStream.opened.clear();
  }

  get closed(): boolean {
    return this.ended;
  }

  write(text: string): void {
    if (!this.ended) this.socket.write(text);
  }

  /** Everything received so far, once it matches. */
  async until(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    await until(() => pattern.test(this.text), timeoutMs, `${pattern} in ${this.text.slice(-500)}`);
    return this.text;
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await until(() => this.ended, timeoutMs, 'the server to close the connection');
  }

  /** Forgets what was received so far (after a stream restart). */
  reset(): void {
    this.text = '';
  }

  /**
   * STARTTLS (verified against the test CA), then a new stream header over TLS; its features
   * are the caller's to read.
   */
  async startTls(): Promise<RawStream> {
    this.write(streamOpen());
    await this.until(/<\/stream:features>/);
    this.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await this.until(/<proceed/);
    this.socket.removeAllListeners('data');
    const tls = connectTls({
      socket: this.socket,
      servername: 'example.com',
      ca: readFileSync(testTls().caFile),
    });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    const secure = new RawStream(tls as unknown as Socket);
    secure.write(streamOpen());
    return secure;
  }

  close(): void {
    this.socket.destroy();
  }
}
