// The one thing the c2s session needs from a connection. TCP (with STARTTLS) implements it in
// tcp-transport.ts; a WebSocket (RFC 7395) transport implements the same with framing
// 'websocket', `canStartTls: false` and `secure` from wss / a trusted proxy / loopback.
import type { Framing } from '#xmpp';

export interface C2sTransportHandlers {
  /** Decoded text: a chunk of the TCP stream, or one WebSocket text frame. */
  data(text: string): void;
  /** The connection is gone (either side); called once. */
  closed(): void;
}

export interface C2sTransport {
  /** For metrics and logs. */
  readonly kind: 'tcp' | 'websocket';
  readonly framing: Framing;
  /** The client's IP address (IPv4-mapped IPv6 addresses given as IPv4). */
  readonly remoteAddress: string;
  /** The connection is encrypted (after STARTTLS, or wss, or as a trusted proxy says). */
  readonly secure: boolean;
  /**
   * The client is on this machine (a loopback address, not a client a proxy could not name):
   * auth.allowPlaintext applies to it and to no one else.
   */
  readonly loopback: boolean;
  /** STARTTLS may be offered now: a certificate is configured and TLS is not yet on. */
  readonly canStartTls: boolean;
  /** Writes still reach the client (not closed, our side not ended). */
  readonly writable: boolean;
  /** Bytes written and not yet taken by the client: output is bounded on this. */
  readonly pendingOutputBytes: number;
  start(handlers: C2sTransportHandlers): void;
  write(text: string): void;
  /** Upgrades the connection in place after `<proceed/>` has been written (TCP only). */
  startTls(): Promise<void>;
  /** Stop and restart reading (the shaper and backpressure). */
  pause(): void;
  resume(): void;
  /** Flushes what was written, then closes; forcibly after a short grace period. */
  end(): void;
  /** Closes at once, dropping unwritten output. */
  destroy(): void;
}
