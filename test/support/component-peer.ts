// XEP-0114 peers for the component tests: a real component (xmpp.js, @xmpp/component) and a
// raw TCP stream for input no library would send.
import { connect } from 'node:net';
import { component, xml, type Component, type XmppError } from '@xmpp/component';
import type { Element } from 'ltx';
import { ComponentsService } from '../../apps/router/src/components';
import type { RouterNode } from './router-cluster';

export { xml };

export function componentPort(node: RouterNode): number {
  const port = node.app.get(ComponentsService).port;
  if (port === null) throw new Error(`${node.localHost} ${node.node}: no component listener`);
  return port;
}

export interface ComponentPeer {
  readonly xmpp: Component;
  readonly domain: string;
  readonly received: Element[];
  /** Stream errors the server sent after the handshake. */
  readonly errors: XmppError[];
  bodies(): string[];
  waitFor(count: number, timeoutMs?: number): Promise<Element[]>;
  /** Waits for a stream error from the server; resolves with its condition. */
  waitForError(timeoutMs?: number): Promise<string>;
  send(stanza: Element): Promise<void>;
  stop(): Promise<void>;
}

export interface PeerOptions {
  /** Answer every message with `echo: <body>` from the address it was sent to (default true). */
  readonly echo?: boolean;
}

/**
 * Connects a component and resolves once the handshake succeeded; rejects with the server's
 * stream error (its `condition`) otherwise. It never reconnects by itself.
 */
export async function connectComponent(
  node: RouterNode,
  domain: string,
  secret: string,
  options: PeerOptions = {},
): Promise<ComponentPeer> {
  const xmpp = component({
    service: `xmpp://127.0.0.1:${componentPort(node)}`,
    domain,
    password: secret,
  });
  xmpp.reconnect.stop();
  const received: Element[] = [];
  const errors: XmppError[] = [];
  let waiters: (() => void)[] = [];
  const wake = () => {
    const current = waiters;
    waiters = [];
    current.forEach((w) => w());
  };
  let online = false;
  xmpp.on('error', (error) => {
    if (online && error.condition) errors.push(error);
    wake();
  });
  xmpp.on('stanza', (stanza) => {
    received.push(stanza);
    wake();
    if (options.echo !== false && stanza.name === 'message' && stanza.attrs.type !== 'error') {
      void xmpp
        .send(
          xml(
            'message',
            { from: stanza.attrs.to!, to: stanza.attrs.from!, type: 'chat' },
            xml('body', {}, `echo: ${stanza.getChildText('body') ?? ''}`),
          ),
        )
        .catch(() => undefined);
    }
  });
  try {
    await xmpp.start();
  } catch (error) {
    await xmpp.stop().catch(() => undefined);
    throw error;
  }
  online = true;
  const until = async (done: () => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${domain}: ${what} not within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return {
    xmpp,
    domain,
    received,
    errors,
    bodies: () => received.map((s) => s.getChildText('body') ?? ''),
    async waitFor(count, timeoutMs = 10_000) {
      await until(() => received.length >= count, timeoutMs, `${count} stanzas`);
      return received;
    },
    async waitForError(timeoutMs = 10_000) {
      await until(() => errors.length > 0, timeoutMs, 'a stream error');
      return errors[0]!.condition ?? '';
    },
    send: (stanza) => xmpp.send(stanza),
    async stop() {
      await xmpp.stop().catch(() => undefined);
    },
  };
}

/** The condition of a failed connection attempt. */
export async function refusal(attempt: Promise<ComponentPeer>): Promise<string> {
  try {
    const peer = await attempt;
    await peer.stop();
    return 'accepted';
  } catch (error) {
    return (error as XmppError).condition ?? String(error);
  }
}

/**
 * Writes `chunks` to the component port one after another and returns everything the
 * server sent until it closed the connection (or `timeoutMs` passed).
 */
export function rawExchange(
  port: number,
  chunks: readonly string[],
  timeoutMs = 5_000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (text += data));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

export const ACCEPT_HEADER = (domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`;
