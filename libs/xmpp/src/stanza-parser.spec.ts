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

  it('refuses text the tokenizer would keep after the element, so the next stanza is clean', () => {
    const parser = new StanzaParser();
    for (const bad of [
      `<message id='1'/><iq to='x`,
      `<message id='1'/><iq`,
      `<message id='1'/>trailing`,
      `<message id='1'/><!-- open`,
      `<message id='1'/><![CDATA[x`,
    ]) {
      expect(() => parser.parse(bad), bad).toThrow();
      const next = parser.parse(`<message id='next' to='a@b'/>`);
      expect(next.toString(), bad).toBe(`<message id="next" to="a@b"/>`);
    }
    expect(parser.parse(`<presence/>  \n`).name).toBe('presence');
    expect(parser.parse(`<message id='again'/>`).attrs.id).toBe('again');
  });
});
