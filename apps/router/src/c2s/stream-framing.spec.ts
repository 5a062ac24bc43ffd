import { parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { serializeStanza, streamClose, streamError, streamHeader } from './stream-framing';

describe('stream framing', () => {
  it('writes a TCP stream header and a WebSocket <open/>', () => {
    expect(streamHeader('stream', { id: 'abc', from: 'example.com' })).toBe(
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='abc' from='example.com' version='1.0' xml:lang='en'>",
    );
    expect(streamHeader('websocket', { id: 'abc', from: 'example.com' })).toBe(
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='abc' from='example.com' version='1.0' xml:lang='en'/>",
    );
  });

  it('writes stream errors and the end of the stream for each framing', () => {
    expect(streamError('stream', 'conflict')).toBe(
      '<stream:error><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>',
    );
    expect(streamError('websocket', 'host-unknown', 'no')).toContain(
      'xmlns:stream="http://etherx.jabber.org/streams"',
    );
    expect(streamClose('stream')).toBe('</stream:stream>');
    expect(streamClose('websocket')).toBe("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  });

  it('writes stanzas in jabber:client without changing the shared element', () => {
    const fromComponent = parse(
      "<message xmlns='jabber:component:accept' from='svc.example.com' to='a@example.com'><body>x</body></message>",
    );
    expect(serializeStanza('stream', fromComponent)).toBe(
      '<message from="svc.example.com" to="a@example.com"><body>x</body></message>',
    );
    expect(serializeStanza('websocket', fromComponent)).toBe(
      '<message xmlns="jabber:client" from="svc.example.com" to="a@example.com"><body>x</body></message>',
    );
    expect(fromComponent.attrs.xmlns).toBe('jabber:component:accept');
    const plain = parse("<presence from='a@example.com/r'/>");
    expect(serializeStanza('stream', plain)).toBe('<presence from="a@example.com/r"/>');
  });
});
