// What the server answers itself (the LocalServer handler): stanzas addressed to a served
// domain, and iq addressed to a bare account JID (RFC 6121 §8.5.1). XEP-0199 ping,
// XEP-0030 disco#info and disco#items (items: the revision's components that are not
// hidden, which every datacenter can route to), an empty roster, the legacy session;
// service-unavailable for any other iq get/set. Pure: the snapshot is passed in.
import { Element } from 'ltx';
import { errorReply, isDomainJid, parseJid, serviceUnavailable } from '#xmpp';
import type { RouterSnapshot } from '../config-sync';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_ROSTER, NS_SESSION } from './xmpp-namespaces';

/** Features listed by disco#info on a served domain. */
export const SERVER_FEATURES = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_ROSTER, NS_SESSION];

export function answerServerStanza(stanza: Element, snapshot: RouterSnapshot): Element | null {
  if (stanza.name !== 'iq') return null; // messages and presences to the server are dropped
  const type = stanza.attrs.type;
  if (type !== 'get' && type !== 'set') return null; // results and errors end here
  const to = parseJid(stanza.attrs.to ?? '');
  const payloads = stanza.children.filter((c): c is Element => typeof c !== 'string');
  if (!to || payloads.length !== 1) return errorReply(stanza, 'modify', 'bad-request');
  const payload = payloads[0]!;
  const xmlns = payload.attrs.xmlns;
  const account = !isDomainJid(to);

  if (type === 'get' && payload.name === 'ping' && xmlns === NS_PING) return result(stanza);
  if (type === 'get' && payload.name === 'query' && xmlns === NS_DISCO_INFO) {
    if (payload.attrs.node) return errorReply(stanza, 'cancel', 'item-not-found');
    return result(stanza, discoInfo(account));
  }
  if (type === 'get' && payload.name === 'query' && xmlns === NS_DISCO_ITEMS) {
    if (payload.attrs.node) return errorReply(stanza, 'cancel', 'item-not-found');
    return result(stanza, account ? new Element('query', { xmlns }) : discoItems(snapshot));
  }
  if (payload.name === 'query' && xmlns === NS_ROSTER && account) {
    // ARCHITECTURE §12: no roster storage; a get is answered with an empty roster.
    if (type === 'get') return result(stanza, new Element('query', { xmlns: NS_ROSTER }));
    return errorReply(stanza, 'cancel', 'not-allowed');
  }
  if (type === 'set' && payload.name === 'session' && xmlns === NS_SESSION) return result(stanza);
  return serviceUnavailable(stanza);
}

function result(iq: Element, payload?: Element): Element {
  const reply = new Element('iq', {
    type: 'result',
    id: iq.attrs.id,
    from: iq.attrs.to,
    to: iq.attrs.from,
  });
  if (payload) reply.cnode(payload);
  return reply;
}

function discoInfo(account: boolean): Element {
  const query = new Element('query', { xmlns: NS_DISCO_INFO });
  if (account) {
    query.c('identity', { category: 'account', type: 'registered' });
    query.c('feature', { var: NS_DISCO_INFO });
    query.c('feature', { var: NS_DISCO_ITEMS });
    return query;
  }
  query.c('identity', { category: 'server', type: 'im', name: 'Meridian' });
  for (const feature of SERVER_FEATURES) query.c('feature', { var: feature });
  return query;
}

function discoItems(snapshot: RouterSnapshot): Element {
  const query = new Element('query', { xmlns: NS_DISCO_ITEMS });
  for (const component of snapshot.config.components) {
    if (!component.hidden) query.c('item', { jid: component.domain });
  }
  return query;
}
