// What the server writes around stanzas, for each framing: a TCP stream is one long document
// (`<stream:stream>` ... `</stream:stream>`); RFC 7395 WebSocket framing sends one complete
// element per frame (`<open/>` ... `<close/>`, stream-level elements carrying their namespace).
import { Element, escapeXML } from 'ltx';
import type { Framing } from '#xmpp';
import { NS_CLIENT, NS_FRAMING, NS_STREAM, NS_STREAM_ERRORS } from './xmpp-namespaces';

export interface StreamHeader {
  readonly id: string;
  readonly from: string;
}

export function streamHeader(framing: Framing, header: StreamHeader): string {
  const id = escapeXML(header.id);
  const from = escapeXML(header.from);
  if (framing === 'websocket') {
    return `<open xmlns='${NS_FRAMING}' id='${id}' from='${from}' version='1.0' xml:lang='en'/>`;
  }
  return (
    `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'` +
    ` id='${id}' from='${from}' version='1.0' xml:lang='en'>`
  );
}

export function streamFeatures(framing: Framing, features: readonly Element[]): string {
  const attrs = framing === 'websocket' ? { 'xmlns:stream': NS_STREAM } : {};
  const element = new Element('stream:features', attrs);
  for (const feature of features) element.cnode(feature);
  return element.toString();
}

export function streamError(framing: Framing, condition: string, text?: string): string {
  const attrs = framing === 'websocket' ? { 'xmlns:stream': NS_STREAM } : {};
  const element = new Element('stream:error', attrs);
  element.c(condition, { xmlns: NS_STREAM_ERRORS });
  if (text) element.c('text', { xmlns: NS_STREAM_ERRORS, 'xml:lang': 'en' }).t(text);
  return element.toString();
}

export function streamClose(framing: Framing): string {
  return framing === 'websocket' ? `<close xmlns='${NS_FRAMING}'/>` : '</stream:stream>';
}

/**
 * A stanza as written to a client: in the jabber:client namespace. On TCP it inherits the
 * stream's default namespace, so a foreign xmlns (a component's jabber:component:accept) is
 * dropped; RFC 7395 wants it on every stanza. The element is shared between recipients and
 * is not changed: a shallow copy is written instead when the namespace differs.
 */
export function serializeStanza(framing: Framing, stanza: Element): string {
  const wanted = framing === 'websocket' ? NS_CLIENT : undefined;
  const current = stanza.attrs.xmlns;
  if (current === wanted || (framing === 'stream' && current === NS_CLIENT)) {
    return stanza.toString();
  }
  const copy = new Element(stanza.name, { ...stanza.attrs, xmlns: wanted });
  copy.children = stanza.children;
  return copy.toString();
}
