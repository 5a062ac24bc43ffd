import { parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { StanzaParser } from './stanza-parser';

describe('StanzaParser', () => {
  it('gives what ltx.parse gives, call after call', () => {
    const parser = new StanzaParser();
    const texts = [
      `<message to='b@x/r' from="a@x/r" type='chat'><body>hi &amp; &lt;bye&gt; &#x263A;</body></message>`,
      `<iq type='get' id='1'><query xmlns='jabber:iq:version'/></iq>`,
      `<presence/>`,
      `<message><body>ünïcødé ✓</body><thread>t</thread></message>`,
    ];
    for (let round = 0; round < 3; round++) {
      for (const text of texts) expect(parser.parse(text).toString()).toBe(parse(text).toString());
    }
  });

  it('throws on what ltx.parse refuses, and recovers for the next stanza', () => {
    const parser = new StanzaParser();
    for (const bad of [
      `<message><body>open`,
      `<message></iq>`,
      `<message/><message/>`,
      `text<message/>`,
      `<message a='&bogus;'/>`,
      ``,
    ]) {
      expect(() => parser.parse(bad), bad).toThrow();
      expect(parser.parse(`<message id='ok'/>`).attrs.id).toBe('ok');
    }
  });
});
