import { Element } from 'ltx';
import { describe, expect, it } from 'vitest';
import { errorReply, serviceUnavailable } from './stanza';

function message(type = 'chat'): Element {
  const stanza = new Element('message', {
    from: 'a@example.com/r',
    to: 'b@example.com',
    id: 'x1',
    type,
  });
  stanza.c('body').t('hello');
  return stanza;
}

describe('serviceUnavailable', () => {
  it('answers a message from the recipient, with the payload and a cancel error', () => {
    const reply = serviceUnavailable(message())!;
    expect(reply.toString()).toBe(
      '<message from="b@example.com" to="a@example.com/r" id="x1" type="error"><body>hello</body>' +
        '<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>',
    );
  });

  it('never answers errors, presences or iq results', () => {
    expect(serviceUnavailable(message('error'))).toBeNull();
    expect(serviceUnavailable(new Element('presence', { from: 'a@e/r', to: 'b@e' }))).toBeNull();
    expect(
      serviceUnavailable(new Element('iq', { type: 'result', from: 'a@e/r', to: 'b@e' })),
    ).toBeNull();
    expect(
      serviceUnavailable(new Element('iq', { type: 'get', from: 'a@e/r', to: 'b@e' })),
    ).not.toBeNull();
  });

  it('leaves the original stanza untouched and can carry a text', () => {
    const original = message();
    const reply = errorReply(original, 'modify', 'bad-request', 'why');
    expect(original.attrs.type).toBe('chat');
    expect(
      reply.getChild('error')!.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas'),
    ).toBe('why');
  });
});
