// Type declarations for @xmpp/component 0.13 (it ships none), covering what the tests use.
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from 'ltx';

  /** A stream error or stanza error from the server: `condition` is its RFC 6120 name. */
  export interface XmppError extends Error {
    condition?: string;
    text?: string;
  }

  export interface Component extends EventEmitter {
    status: string;
    reconnect: { delay: number; stop(): void };
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    write(text: string): Promise<void>;
    on(event: 'stanza' | 'element' | 'nonza', listener: (element: Element) => void): this;
    on(event: 'error', listener: (error: XmppError) => void): this;
    on(event: 'online' | 'offline' | 'disconnect', listener: (...args: unknown[]) => void): this;
    on(event: 'status', listener: (status: string) => void): this;
  }

  export function component(options: {
    service: string;
    domain: string;
    password: string;
  }): Component;

  export function xml(
    name: string,
    attrs?: Record<string, string>,
    ...children: (Element | string)[]
  ): Element;
}
