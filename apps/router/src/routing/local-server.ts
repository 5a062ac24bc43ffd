// Stanzas addressed to a served domain itself (not to a user or component). The XMPP edge
// answers disco, ping and the like; until it does, the core answers iq get/set with
// service-unavailable and drops the rest, as a server does for what it does not handle.
import { Injectable } from '@nestjs/common';
import type { Element } from 'ltx';
import { serviceUnavailable } from '#xmpp';

export interface ServerStanzaHandler {
  /** Returns the reply to route back, or null. */
  handle(stanza: Element): Element | null;
}

@Injectable()
export class LocalServer implements ServerStanzaHandler {
  private handler: ServerStanzaHandler | null = null;

  /** The edge installs its handler here. */
  use(handler: ServerStanzaHandler): void {
    this.handler = handler;
  }

  handle(stanza: Element): Element | null {
    if (this.handler) return this.handler.handle(stanza);
    return serviceUnavailable(stanza);
  }
}
