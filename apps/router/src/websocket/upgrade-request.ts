// What an HTTP upgrade request says before it becomes an XMPP stream: whether the endpoint
// takes it (path, RFC 7395 subprotocol), who the client is, and whether its connection is
// encrypted (ARCHITECTURE §12 "WebSocket login"). Pure: headers in, answers out.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { isLoopback, normaliseAddress } from '../c2s/addresses';

export const WEBSOCKET_PATH = '/xmpp-websocket';
/** RFC 7395 §3.1: the subprotocol a client must ask for, and the server must answer with. */
export const XMPP_SUBPROTOCOL = 'xmpp';

export type UpgradeRefusalReason = 'path' | 'subprotocol' | 'shutdown';

export interface UpgradeRefusal {
  readonly status: 400 | 404 | 503;
  readonly reason: UpgradeRefusalReason;
  readonly text: string;
}

/** Why an upgrade request is not taken, or null when it may go on to the WebSocket handshake. */
export function upgradeRefusal(
  url: string | undefined,
  headers: IncomingHttpHeaders,
): UpgradeRefusal | null {
  if (pathOf(url) !== WEBSOCKET_PATH) {
    return { status: 404, reason: 'path', text: `XMPP over WebSocket is at ${WEBSOCKET_PATH}` };
  }
  // RFC 7395 §3.3.1: a server must not accept the connection without the xmpp subprotocol.
  if (!requestedSubprotocols(headers['sec-websocket-protocol']).includes(XMPP_SUBPROTOCOL)) {
    return {
      status: 400,
      reason: 'subprotocol',
      text: `the Sec-WebSocket-Protocol header must offer "${XMPP_SUBPROTOCOL}" (RFC 7395)`,
    };
  }
  return null;
}

export function requestedSubprotocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

function pathOf(url: string | undefined): string {
  const path = url ?? '';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

export interface WebSocketClient {
  /** The client's IP address: the peer, or what a loopback proxy forwarded. */
  readonly remoteAddress: string;
  /** Whether the client's connection is encrypted (or never left this machine). */
  readonly secure: boolean;
  /** The client is on this machine: itself the loopback peer, or a loopback proxy's client. */
  readonly loopback: boolean;
}

/**
 * The client behind an upgrade. Only a loopback peer is trusted as a proxy (the router serves
 * no TLS on HTTP_PORT, so a TLS-terminating proxy sits on the same machine): its last
 * `X-Forwarded-For` entry is the client, and its `X-Forwarded-Proto` says whether the client
 * used TLS. A loopback peer that forwards nothing is a local client: secure, as TLS to itself
 * would add nothing. Any other peer is a plain ws:// client: not secure. Headers from peers
 * that are not loopback are ignored, so a client cannot claim an address or TLS.
 */
export function webSocketClient(
  peerAddress: string | undefined,
  headers: IncomingHttpHeaders,
  encrypted = false,
): WebSocketClient {
  const peer = normaliseAddress(peerAddress ?? 'unknown');
  if (!isLoopback(peer)) return { remoteAddress: peer, secure: encrypted, loopback: false };

  const forwardedFor = headers['x-forwarded-for'];
  const proto = lastToken(headers['x-forwarded-proto'])?.toLowerCase();
  let remoteAddress = peer;
  let known = true;
  if (forwardedFor !== undefined) {
    const client = normaliseAddress(stripBrackets(lastToken(forwardedFor) ?? ''));
    if (isIP(client) !== 0) remoteAddress = client;
    // A proxied client whose address is not readable: counted as the proxy, never trusted
    // as local.
    else known = false;
  }
  const loopback = known && isLoopback(remoteAddress);
  if (encrypted) return { remoteAddress, secure: true, loopback };
  const secure = proto !== undefined ? proto === 'https' : loopback;
  return { remoteAddress, secure, loopback };
}

/** The last entry of a comma-separated header (repeated headers arrive joined by Node). */
function lastToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined) return undefined;
  const token = value.split(',').at(-1)?.trim();
  return token === '' ? undefined : token;
}

function stripBrackets(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  return bracketed ? bracketed[1]! : address;
}
