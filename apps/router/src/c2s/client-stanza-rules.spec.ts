import { parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { validIq, validResource } from './client-stanza-rules';
import { accountOf } from './sasl-plain-login';

describe('client stanza rules', () => {
  it('accepts ordinary resources and refuses control characters, blanks and huge ones', () => {
    expect(validResource('phone')).toBe(true);
    expect(validResource('Tèlèfono 📱')).toBe(true);
    expect(validResource('a\u0000b')).toBe(false);
    expect(validResource('line\nbreak')).toBe(false);
    expect(validResource('   ')).toBe(false);
    expect(validResource('x'.repeat(1024))).toBe(false);
  });

  it('wants an id, a type, and one payload on get and set', () => {
    expect(validIq(parse("<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"))).toBe(true);
    expect(validIq(parse("<iq type='result' id='1'/>"))).toBe(true);
    expect(validIq(parse("<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>"))).toBe(false);
    expect(validIq(parse("<iq type='get' id='1'/>"))).toBe(false);
    expect(validIq(parse("<iq type='set' id='1'><a/><b/></iq>"))).toBe(false);
    expect(validIq(parse("<iq type='poke' id='1'><a/></iq>"))).toBe(false);
  });

  it('reads the account of a PLAIN authcid: a localpart or a bare JID of the domain', () => {
    expect(accountOf('Alice', 'example.com')).toEqual({
      local: 'alice',
      domain: 'example.com',
      resource: '',
    });
    expect(accountOf('alice@example.com', 'example.com')?.local).toBe('alice');
    expect(accountOf('alice@elsewhere.com', 'example.com')).toBeNull();
    expect(accountOf('alice@example.com/res', 'example.com')).toBeNull();
    expect(accountOf('a:b', 'example.com')).toBeNull();
  });
});
