// The INTERLINK_LISTEN socket. One plain TCP server for the node's whole life: when TLS is on,
// each accepted socket is handed to a (non-listening) tls.Server that does the mutual-TLS
// handshake with the certificates in force. A TLS switch or a certificate rotation therefore
// applies to the next connection without closing the port. (A hand-made server TLSSocket
// would not check the client certificate; tls.Server does.)
import type { Logger } from '@nestjs/common';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';
import type { HostPort } from '../../env/router-env';
import type { GdMetrics } from '../../metrics/gd-metrics';
import type { InterlinkOptions } from '../interlink-options';
import { serverTlsOptions, type TlsMaterial } from '../tls-material';
import { IncomingLink, type IncomingWork } from './incoming-link';
import { SenderSerialExecutor } from './sender-serial-executor';

export interface ListenerSettings {
  readonly tlsEnabled: boolean;
  /** Required when tlsEnabled; without it, connections are refused. */
  readonly material: TlsMaterial | null;
  readonly maxStanzaBytes: number;
}

export interface InterlinkListenerDeps {
  readonly options: InterlinkOptions;
  readonly metrics: GdMetrics;
  readonly logger: Logger;
  readonly handle: (work: IncomingWork) => Promise<void>;
  readonly onHandlerError: (error: unknown) => void;
}

export class InterlinkListener {
  private server: Server | null = null;
  private tlsServer: TlsServer | null = null;
  private settings: ListenerSettings;
  private readonly links = new Set<IncomingLink>();
  /** Every accepted socket, handshaking ones included, so close() can end them all. */
  private readonly sockets = new Set<Socket>();
  private readonly executor: SenderSerialExecutor<IncomingWork>;
  private closing = false;
  private warnedUnconfigured = false;

  constructor(
    initial: ListenerSettings,
    private readonly deps: InterlinkListenerDeps,
  ) {
    this.settings = initial;
    this.configure(initial);
    this.executor = new SenderSerialExecutor<IncomingWork>(deps.handle, (work, error) => {
      work.link.release(work.weight, work.seq);
      if (error) deps.onHandlerError(error);
    });
  }

  get linkCount(): number {
    return this.links.size;
  }

  /** Received stanzas not yet handled, over all links. */
  get pendingStanzas(): number {
    return this.executor.size;
  }

  configure(settings: ListenerSettings): void {
    this.settings = settings;
    this.tlsServer =
      settings.tlsEnabled && settings.material ? this.makeTlsServer(settings.material) : null;
  }

  listen(address: HostPort): Promise<HostPort> {
    const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        server.on('error', (err) =>
          this.deps.logger.error({ error: err.message }, 'interlink listener error'),
        );
        const bound = server.address() as AddressInfo;
        resolve({ host: bound.address, port: bound.port });
      });
    });
  }

  /**
   * Stops accepting, lets received stanzas be handled (bounded), acknowledges them and ends
   * every link (the peers send what was not read elsewhere), then closes what is left.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : null;
    for (const link of this.links) link.stopReading();
    await Promise.race([this.executor.whenIdle(), delay(timeoutMs)]);
    const ended = [...this.links].map((link) => link.finish());
    await Promise.race([Promise.all(ended), delay(LINK_END_TIMEOUT_MS)]);
    for (const link of this.links) link.socket.destroy();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!this.settings.tlsEnabled) {
      this.addLink(socket, remote);
      return;
    }
    if (!this.tlsServer) {
      this.deps.metrics.incomingErrored.inc();
      if (!this.warnedUnconfigured) {
        this.deps.logger.warn(
          { remote },
          'interlink connection refused: TLS is on and this node has no certificates yet',
        );
        this.warnedUnconfigured = true;
      }
      socket.destroy();
      return;
    }
    this.tlsServer.emit('connection', socket);
  }

  private makeTlsServer(material: TlsMaterial): TlsServer {
    const server = createTlsServer(serverTlsOptions(material, this.deps.options.helloTimeoutMs));
    server.on('secureConnection', (socket: TLSSocket) => {
      this.addLink(socket, `${socket.remoteAddress}:${socket.remotePort}`);
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      this.deps.metrics.incomingErrored.inc();
      // A refused client certificate closes the socket with no error of its own ("socket hang
      // up"); why it was refused (CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE...) is in
      // authorizationError. The address is gone with the socket by now.
      const reason = socket.authorizationError;
      this.deps.logger.warn(
        {
          remote: socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'closed',
          error: reason ? `client certificate refused: ${String(reason)}` : err.message,
        },
        'interlink TLS handshake refused',
      );
    });
    return server;
  }

  private addLink(socket: Socket, remote: string): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const link = new IncomingLink(socket, remote, {
      maxStanzaBytes: this.settings.maxStanzaBytes,
      options: this.deps.options,
      metrics: this.deps.metrics,
      logger: this.deps.logger,
      submit: (senderKey, work) => this.executor.submit(senderKey, work),
      onClosed: (closed) => this.links.delete(closed),
    });
    this.links.add(link);
  }
}

/** How long a stopping node waits for its peers to close the links it ended. */
const LINK_END_TIMEOUT_MS = 1_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
