// Stanza helpers shared by the router core and the XMPP edge.
import { clone, Element } from 'ltx';

export type StanzaKind = 'message' | 'presence' | 'iq';

export function stanzaKind(stanza: Element): StanzaKind | null {
  const name = stanza.name;
  return name === 'message' || name === 'presence' || name === 'iq' ? name : null;
}

/** Stanzas that must never be answered with an error (RFC 6120 §8.3.1). */
export function isErrorStanza(stanza: Element): boolean {
  return stanza.attrs.type === 'error';
}

/**
 * The error a bounced or undeliverable stanza returns to its sender (ARCHITECTURE §12): from
 * the original recipient, to the original sender, `type='cancel'`, `service-unavailable`.
 * Returns null where no error may be sent: error stanzas, presences, iq results.
 */
export function serviceUnavailable(stanza: Element): Element | null {
  const kind = stanzaKind(stanza);
  if (kind === null || kind === 'presence' || isErrorStanza(stanza)) return null;
  if (kind === 'iq' && stanza.attrs.type !== 'get' && stanza.attrs.type !== 'set') return null;
  return errorReply(stanza, 'cancel', 'service-unavailable');
}

export function errorReply(
  stanza: Element,
  type: string,
  condition: string,
  text?: string,
): Element {
  const reply = new Element(stanza.name, {
    ...stanza.attrs,
    from: stanza.attrs.to,
    to: stanza.attrs.from,
    type: 'error',
  });
  // The original payload goes back with the error, as RFC 6120 §8.3.1 recommends.
  for (const child of stanza.children) {
    if (typeof child !== 'string') reply.cnode(clone(child));
  }
  const error = reply.c('error', { type });
  error.c(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' });
  if (text) error.c('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }).t(text);
  return reply;
}
