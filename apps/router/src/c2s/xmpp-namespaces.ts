// Namespaces of the c2s stream and of the server features it answers.
export const NS_CLIENT = 'jabber:client';
export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const NS_STANZA_ERRORS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_PING = 'urn:xmpp:ping';
export const NS_ROSTER = 'jabber:iq:roster';
/**
 * Meridian's own: the notice a new session sends to an older one holding the same full JID
 * on another node or datacenter (the newest wins). Never accepted from a client.
 */
export const NS_REPLACE = 'urn:meridian:c2s:replace:0';
