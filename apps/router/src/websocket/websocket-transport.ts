// A c2s connection over WebSocket (RFC 7395): one text frame in is one chunk for the session's
// parser, one write is one text frame out. No STARTTLS: encryption is the connection's (wss,
// or a TLS-terminating proxy), decided at the upgrade.
import type { RawData, WebSocket } from 'ws';
import type { C2sTransport, C2sTransportHandlers } from '../c2s';

/** After end(), a client that does not finish the closing handshake is cut off after this. */
const END_GRACE_MS = 2_000;

/** RFC 6455 §7.4.1 close codes used here. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_UNSUPPORTED_DATA = 1003;

/** Why ws itself failed a connection, by the error's code; for metrics. */
export type FrameRefusal = 'binary' | 'too-large' | 'invalid-utf8' | 'protocol';

export class WebSocketTransport implements C2sTransport {
  readonly kind = 'websocket' as const;
  readonly framing = 'websocket' as const;
  readonly canStartTls = false;
  private closed = false;
  private endTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly secure: boolean,
    readonly loopback: boolean,
    private readonly refused: (reason: FrameRefusal) => void = () => undefined,
  ) {}

  get writable(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  get pendingOutputBytes(): number {
    return this.ws.bufferedAmount;
  }

  start(handlers: C2sTransportHandlers): void {
    this.ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.closed) return;
      if (isBinary) {
        // RFC 7395 §3.2: XMPP goes in text frames only.
        this.refused('binary');
        this.ws.close(CLOSE_UNSUPPORTED_DATA, 'XMPP frames are text');
        this.graceThenTerminate();
        return;
      }
      handlers.data(textOf(data));
    });
    // ws closes the connection itself on a protocol error (1002), a frame over maxPayload
    // (1009) or invalid UTF-8 (1007); 'close' follows.
    this.ws.on('error', (err: Error & { code?: string }) => {
      if (err.code?.startsWith('WS_ERR_')) this.refused(refusalOf(err.code));
    });
    this.ws.once('close', () => {
      if (this.closed) return;
      this.closed = true;
      if (this.endTimer) clearTimeout(this.endTimer);
      handlers.closed();
    });
  }

  write(text: string): void {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  startTls(): Promise<void> {
    return Promise.reject(new Error('STARTTLS is not available over WebSocket'));
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    if (!this.closed) this.ws.resume();
  }

  /** After `<close/>`: the closing handshake (1000) once what was sent is flushed. */
  end(): void {
    if (this.closed) return;
    // The session paused reading while it handled the last frame; the client's close frame
    // must be read for the handshake to finish (the session ignores anything else now).
    this.ws.resume();
    this.ws.close(CLOSE_NORMAL);
    this.graceThenTerminate();
  }

  destroy(): void {
    this.ws.terminate();
  }

  private graceThenTerminate(): void {
    if (this.endTimer) return;
    this.endTimer = setTimeout(() => this.ws.terminate(), END_GRACE_MS);
    this.endTimer.unref();
  }
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function refusalOf(code: string): FrameRefusal {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'too-large';
  if (code === 'WS_ERR_INVALID_UTF8') return 'invalid-utf8';
  return 'protocol';
}
