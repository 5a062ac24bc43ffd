// XMPP over WebSocket (RFC 7395) at /xmpp-websocket on the router's HTTP server (HTTP_PORT):
// takes the upgrades with the `xmpp` subprotocol, refuses the others with an HTTP error, and
// hands each connection to the c2s server as a WebSocketTransport. Everything after the
// upgrade (negotiation, login, binding, stanzas, limits, shutdown) is the c2s session's.
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LimitsDocument } from '#config';
import { C2sServer } from '../c2s';
import { RouterConfig } from '../config-sync';
import {
  upgradeRefusal,
  webSocketClient,
  XMPP_SUBPROTOCOL,
  type UpgradeRefusal,
} from './upgrade-request';
import { WebSocketMetrics } from './websocket-metrics';
import { WebSocketTransport } from './websocket-transport';

/**
 * A frame may be this much larger than `limits.maxStanzaBytes`: a stanza slightly over the
 * limit reaches the session's parser and gets `policy-violation`; a frame over the bound is
 * refused by ws itself (close 1009) before it is buffered whole.
 */
export const FRAME_SLACK_BYTES = 4_096;

/** How long shutdown waits for closing handshakes before cutting connections off. */
const CLOSE_WAIT_MS = 2_000;

const STOPPING: UpgradeRefusal = {
  status: 503,
  reason: 'shutdown',
  text: 'the server is stopping',
};

export function frameBound(limits: LimitsDocument): number {
  return limits.maxStanzaBytes + FRAME_SLACK_BYTES;
}

@Injectable()
export class WebSocketEndpoint implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebSocket');
  private wss: WebSocketServer | null = null;
  private server: Server | null = null;
  private closing = false;
  private stopWatchingLimits: (() => void) | null = null;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.upgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: RouterConfig,
    private readonly c2s: C2sServer,
    private readonly metrics: WebSocketMetrics,
  ) {}

  /**
   * Runs after the configuration is loaded (ConfigSyncModule's init) and the HTTP server
   * exists (it does from the application's creation, before listen), in main and in tests.
   */
  onModuleInit(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) {
      this.logger.warn('no HTTP server: XMPP over WebSocket is not served');
      return;
    }
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: frameBound(this.config.snapshot.config.limits),
      // No compression: it would let a small frame inflate past every bound (and leak
      // secrets next to attacker-chosen text, as CRIME did).
      perMessageDeflate: false,
      // upgrade() only lets requests offering it through.
      handleProtocols: () => XMPP_SUBPROTOCOL,
    });
    this.wss = wss;
    this.server = server;
    server.on('upgrade', this.onUpgrade);
    // New connections take a new bound; open ones keep theirs (ws fixes it at the handshake).
    this.stopWatchingLimits = this.config.onChange((next) => {
      wss.options.maxPayload = frameBound(next.config.limits);
    });
  }

  /**
   * Runs before the c2s module's own shutdown (this module imports it): from now on upgrades
   * are refused with 503; the c2s server then ends every stream, WebSocket ones included,
   * with `system-shutdown`.
   */
  onModuleDestroy(): void {
    this.closing = true;
    this.stopWatchingLimits?.();
    this.stopWatchingLimits = null;
  }

  /** After the streams were closed: connections still open are cut, before the HTTP server
   * closes (it waits for every connection, upgraded ones too). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const wss = this.wss;
    if (!wss) return;
    this.wss = null;
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (wss.clients.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    this.server?.off('upgrade', this.onUpgrade);
    this.server = null;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const wss = this.closing ? null : this.wss;
    if (!wss) return this.refuse(req, socket, STOPPING);
    const refusal = upgradeRefusal(req.url, req.headers);
    if (refusal) return this.refuse(req, socket, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, req));
  }

  private refuse(req: IncomingMessage, socket: Duplex, refusal: UpgradeRefusal): void {
    this.metrics.upgradeRefused(refusal.reason);
    this.logger.debug?.(
      { ip: req.socket.remoteAddress, url: req.url, reason: refusal.reason },
      'WebSocket upgrade refused',
    );
    const body = `${refusal.text}\n`;
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body,
    );
  }

  private connected(ws: WebSocket, req: IncomingMessage): void {
    const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
    const client = webSocketClient(req.socket.remoteAddress, req.headers, encrypted);
    const transport = new WebSocketTransport(
      ws,
      client.remoteAddress,
      client.secure,
      client.loopback,
      (reason) => this.metrics.frameRefused(reason),
    );
    this.c2s.openSession(transport);
  }
}
