// Type declarations for @xmpp/client 0.14 (it ships none), covering what the tests use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from 'ltx';

  /** A stream error or stanza error from the server: `condition` is its RFC 6120 name. */
  export interface XmppError extends Error {
    condition?: string;
    text?: string;
    element?: Element;
  }

  export interface XmppJid {
    toString(): string;
    bare(): XmppJid;
    local: string;
    domain: string;
    resource: string;
  }

  export interface Client extends EventEmitter {
    status: string;
    jid: XmppJid | null;
    reconnect: { delay: number; stop(): void };
    iqCaller: {
      request(stanza: Element, timeoutMs?: number): Promise<Element>;
    };
    start(): Promise<XmppJid>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    write(text: string): Promise<void>;
    on(event: 'stanza' | 'element' | 'nonza', listener: (element: Element) => void): this;
    on(event: 'error', listener: (error: XmppError) => void): this;
    on(event: 'online', listener: (jid: XmppJid) => void): this;
    on(event: 'offline' | 'disconnect', listener: (...args: unknown[]) => void): this;
    on(event: 'status', listener: (status: string) => void): this;
  }

  export function client(options: {
    service: string;
    domain: string;
    username?: string;
    password?: string;
    resource?: string;
    timeout?: number;
  }): Client;

  export function xml(
    name: string,
    attrs?: Record<string, string | undefined>,
    ...children: (Element | string)[]
  ): Element;
}
