// A c2s connection over TCP: UTF-8 text in, STARTTLS upgrades the same socket in place
// (a server-side tls.TLSSocket over it, RFC 6120 §5), output measured for the bound. What is
// written in one turn of the event loop leaves in one socket write: a burst of stanzas for a
// session costs one syscall (and one TLS record), not one each.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { isLoopback } from './addresses';
import type { C2sTransport, C2sTransportHandlers } from './c2s-transport';

/** After end(), a client that does not close its side is cut off after this long. */
const END_GRACE_MS = 2_000;

export function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class TcpTransport implements C2sTransport {
  readonly kind = 'tcp' as const;
  readonly framing = 'stream' as const;
  readonly remoteAddress: string;
  readonly loopback: boolean;
  private socket: Socket;
  private tls: TLSSocket | null = null;
  private handlers: C2sTransportHandlers | null = null;
  private closed = false;
  /** Written in this turn of the event loop, not yet handed to the socket. */
  private pending = '';
  private flushScheduled = false;

  /** `secureContext` gives the certificate in force, or null when none is configured. */
  constructor(
    private readonly raw: Socket,
    private readonly secureContext: () => SecureContext | null,
  ) {
    this.socket = raw;
    this.remoteAddress = clientAddress(raw);
    this.loopback = isLoopback(this.remoteAddress);
  }

  get secure(): boolean {
    return this.tls !== null;
  }

  get canStartTls(): boolean {
    return this.tls === null && this.secureContext() !== null;
  }

  get writable(): boolean {
    return !this.closed && this.socket.writable;
  }

  get pendingOutputBytes(): number {
    return this.socket.writableLength + this.pending.length;
  }

  start(handlers: C2sTransportHandlers): void {
    this.handlers = handlers;
    this.raw.setNoDelay(true);
    this.raw.setEncoding('utf8');
    this.attach(this.raw);
  }

  write(text: string): void {
    if (this.closed || !this.socket.writable) return;
    this.pending += text;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    if (!this.closed && this.socket.writable) this.socket.write(text);
  };

  startTls(): Promise<void> {
    const context = this.secureContext();
    if (!context) return Promise.reject(new Error('no certificate configured'));
    // Wrapped in the same tick as <proceed/> was written, so no byte of the client's
    // handshake is read by the plain socket; <proceed/> itself goes out in the clear first.
    this.flush();
    this.raw.removeAllListeners('data');
    const tls = new TLSSocket(this.raw, { isServer: true, secureContext: context });
    this.tls = tls;
    this.socket = tls;
    tls.setEncoding('utf8');
    this.attach(tls);
    return new Promise((resolve, reject) => {
      const failed = (err?: Error) => reject(err ?? new Error('closed during the TLS handshake'));
      tls.once('secure', () => {
        tls.off('close', failed);
        resolve();
      });
      tls.once('error', failed);
      tls.once('close', failed);
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    // A paused socket never reads the client's FIN, so the close would wait out the grace.
    this.socket.resume();
    this.socket.end();
    setTimeout(() => this.destroy(), END_GRACE_MS).unref();
  }

  destroy(): void {
    this.pending = '';
    this.socket.destroy();
    if (this.tls) this.raw.destroy();
  }

  private attach(socket: Socket): void {
    socket.on('data', (text: string) => this.handlers?.data(text));
    // The server is half-open (allowHalfOpen): after the client's FIN, what was delivered
    // before the session saw its end still goes out; then our side ends too.
    socket.on('end', () => this.end());
    socket.on('error', () => undefined); // 'close' follows; the session logs the reason it knows
    socket.on('close', () => this.onClose());
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.closed();
  }
}
