import { parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '#config';
import type { RouterSnapshot } from '../config-sync';
import { answerServerStanza } from './server-stanzas';

function snapshot(): RouterSnapshot {
  const config = defaultConfig('example.com');
  config.components = [
    { domain: 'shown.example.com', secret: 's'.repeat(20), hidden: false },
    { domain: 'secret.example.com', secret: 's'.repeat(20), hidden: true },
  ];
  return { revision: 1, hash: 'h', config, domainSeq: 0, domains: new Map() };
}

const answer = (xml: string) => answerServerStanza(parse(xml), snapshot());

describe('answerServerStanza', () => {
  it('answers a ping from the server', () => {
    const reply = answer(
      "<iq type='get' id='p1' from='a@example.com/r' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
    );
    expect(reply?.toString()).toBe(
      '<iq type="result" id="p1" from="example.com" to="a@example.com/r"/>',
    );
  });

  it('lists visible components in disco#items, not hidden ones', () => {
    const reply = answer(
      "<iq type='get' id='d1' from='a@example.com/r' to='example.com'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
    );
    expect(
      reply
        ?.getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['shown.example.com']);
  });

  it('describes the server and an account in disco#info', () => {
    const server = answer(
      "<iq type='get' id='i1' from='a@example.com/r' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    expect(server?.getChild('query')?.getChild('identity')?.attrs).toMatchObject({
      category: 'server',
      type: 'im',
    });
    const account = answer(
      "<iq type='get' id='i2' from='a@example.com/r' to='a@example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    expect(account?.getChild('query')?.getChild('identity')?.attrs).toMatchObject({
      category: 'account',
      type: 'registered',
    });
  });

  it('answers a roster get with an empty roster, and refuses roster sets', () => {
    const get = answer(
      "<iq type='get' id='r1' from='a@example.com/r' to='a@example.com'><query xmlns='jabber:iq:roster'/></iq>",
    );
    expect(get?.toString()).toBe(
      '<iq type="result" id="r1" from="a@example.com" to="a@example.com/r"><query xmlns="jabber:iq:roster"/></iq>',
    );
    const set = answer(
      "<iq type='set' id='r2' from='a@example.com/r' to='a@example.com'><query xmlns='jabber:iq:roster'><item jid='b@example.com'/></query></iq>",
    );
    expect(set?.getChild('error')?.getChild('not-allowed')).toBeTruthy();
  });

  it('answers service-unavailable for other iq, and nothing for other stanzas', () => {
    const reply = answer(
      "<iq type='get' id='v1' from='a@example.com/r' to='example.com'><vCard xmlns='vcard-temp'/></iq>",
    );
    expect(reply?.attrs.type).toBe('error');
    expect(reply?.getChild('error')?.getChild('service-unavailable')).toBeTruthy();
    expect(answer("<iq type='result' id='x' from='a@example.com/r' to='example.com'/>")).toBeNull();
    expect(
      answer("<message from='a@example.com/r' to='example.com'><body>hi</body></message>"),
    ).toBeNull();
    expect(answer("<presence from='a@example.com/r' to='example.com'/>")).toBeNull();
  });

  it('answers bad-request for an iq without exactly one payload', () => {
    const reply = answer("<iq type='get' id='e1' from='a@example.com/r' to='example.com'/>");
    expect(reply?.getChild('error')?.getChild('bad-request')).toBeTruthy();
  });
});
