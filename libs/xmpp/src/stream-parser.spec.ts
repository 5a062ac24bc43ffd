import { describe, expect, it } from 'vitest';
import {
  StreamError,
  XmppStreamParser,
  type StreamEvent,
  type StreamLimits,
} from './stream-parser';

const limits: StreamLimits = {
  maxStanzaBytes: 65536,
  maxDepth: 32,
  maxAttributes: 64,
  maxAttributeBytes: 4096,
};
const OPEN =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

function feed(parser: XmppStreamParser, ...chunks: string[]): StreamEvent[] {
  return chunks.flatMap((chunk) => parser.write(chunk));
}

function failure(parser: XmppStreamParser, chunk: string): StreamError {
  try {
    parser.write(chunk);
  } catch (error) {
    return error as StreamError;
  }
  throw new Error('no failure');
}

describe('XmppStreamParser (TCP framing)', () => {
  it('opens the stream, yields each top-level element, and sees the close', () => {
    const parser = new XmppStreamParser(limits, 'stream');
    const events = feed(
      parser,
      OPEN,
      "<message to='a@b'><body>hi &amp; bye</body></message>",
      ' ',
      '</stream:stream>',
    );
    expect(events.map((e) => e.kind)).toEqual(['open', 'element', 'close']);
    const open = events[0] as Extract<StreamEvent, { kind: 'open' }>;
    expect(open.attrs.to).toBe('example.com');
    const message = (events[1] as Extract<StreamEvent, { kind: 'element' }>).element;
    expect(message.getChildText('body')).toBe('hi & bye');
  });

  it('assembles elements split anywhere, including inside tags and entities', () => {
    const whole =
      OPEN +
      "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq><message><body>a&lt;b</body></message>";
    for (let cut = 1; cut < whole.length; cut++) {
      const parser = new XmppStreamParser(limits, 'stream');
      const events = feed(parser, whole.slice(0, cut), whole.slice(cut));
      expect(events.map((e) => e.kind)).toEqual(['open', 'element', 'element']);
    }
  });

  it('counts many small stanzas in one chunk as many, not as one big element', () => {
    const parser = new XmppStreamParser({ ...limits, maxStanzaBytes: 1024 }, 'stream');
    const many = '<message><body>0123456789</body></message>'.repeat(500);
    expect(feed(parser, OPEN, many).filter((e) => e.kind === 'element')).toHaveLength(500);
  });

  it('refuses an oversize element with policy-violation, even one never finished', () => {
    const parser = new XmppStreamParser({ ...limits, maxStanzaBytes: 8192 }, 'stream');
    feed(parser, OPEN);
    expect(failure(parser, `<message><body>${'x'.repeat(9000)}</body></message>`).condition).toBe(
      'policy-violation',
    );
    const slow = new XmppStreamParser({ ...limits, maxStanzaBytes: 8192 }, 'stream');
    feed(slow, OPEN, '<message><body>');
    let error: StreamError | undefined;
    for (let i = 0; i < 100 && !error; i++) {
      try {
        slow.write('y'.repeat(1000));
      } catch (e) {
        error = e as StreamError;
      }
    }
    expect(error?.condition).toBe('policy-violation');
  });

  it('refuses deep nesting, too many attributes and huge attributes', () => {
    const deep = new XmppStreamParser({ ...limits, maxDepth: 5 }, 'stream');
    feed(deep, OPEN);
    expect(failure(deep, '<a><b><c><d><e><f/></e></d></c></b></a>').condition).toBe(
      'policy-violation',
    );
    const attrs = new XmppStreamParser({ ...limits, maxAttributes: 8 }, 'stream');
    feed(attrs, OPEN);
    expect(
      failure(attrs, "<message a='1' b='2' c='3' d='4' e='5' f='6' g='7' h='8' i='9'/>").condition,
    ).toBe('policy-violation');
    const huge = new XmppStreamParser({ ...limits, maxAttributeBytes: 100 }, 'stream');
    feed(huge, OPEN);
    expect(failure(huge, `<message id='${'z'.repeat(200)}'/>`).condition).toBe('policy-violation');
  });

  it('answers malformed XML with not-well-formed and then refuses everything', () => {
    const cases = [
      '<message></iq>',
      '<message>&bogus;</message>',
      '</message>',
      '<message><body>x</message>',
    ];
    for (const bad of cases) {
      const parser = new XmppStreamParser(limits, 'stream');
      feed(parser, OPEN);
      expect(failure(parser, bad).condition, bad).toBe('not-well-formed');
      expect(() => parser.write('<message/>')).toThrow(StreamError);
    }
  });

  it('refuses DTDs, entity tricks, comments and processing instructions', () => {
    const billionLaughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>';
    for (const bad of [billionLaughs, '<!-- hi -->', '<?php echo 1 ?>']) {
      const parser = new XmppStreamParser(limits, 'stream');
      feed(parser, OPEN);
      expect(failure(parser, bad).condition, bad).toBe('restricted-xml');
    }
    const split = new XmppStreamParser(limits, 'stream');
    feed(split, OPEN, '<');
    expect(failure(split, '!DOCTYPE x>').condition).toBe('restricted-xml');
  });

  it('insists on the stream element and its namespace', () => {
    expect(failure(new XmppStreamParser(limits, 'stream'), '<message/>').condition).toBe(
      'not-well-formed',
    );
    expect(
      failure(new XmppStreamParser(limits, 'stream'), "<stream:stream xmlns:stream='urn:wrong'>")
        .condition,
    ).toBe('invalid-namespace');
  });

  it('starts a fresh stream after reset (STARTTLS, SASL)', () => {
    const parser = new XmppStreamParser(limits, 'stream');
    feed(parser, OPEN, '<starttls/>');
    parser.reset();
    expect(feed(parser, OPEN).map((e) => e.kind)).toEqual(['open']);
  });
});

describe('XmppStreamParser (WebSocket framing)', () => {
  it('maps <open/> and <close/> and yields one element per frame', () => {
    const parser = new XmppStreamParser(limits, 'websocket');
    const events = feed(
      parser,
      "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
      "<message xmlns='jabber:client' to='a@b'><body>x</body></message>",
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
    );
    expect(events.map((e) => e.kind)).toEqual(['open', 'element', 'close']);
  });

  it('refuses an unknown framing element', () => {
    const parser = new XmppStreamParser(limits, 'websocket');
    expect(failure(parser, "<reopen xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>").condition).toBe(
      'bad-format',
    );
  });
});

describe('XmppStreamParser on hostile input', () => {
  it('only ever fails with a StreamError, whatever it is fed', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [
      '<',
      '>',
      '/',
      '=',
      "'",
      '"',
      '&',
      ';',
      '!',
      '?',
      'a',
      'message',
      ' ',
      'é',
      '\u{1F600}',
      'amp',
      '#x41',
      '\n',
    ];
    for (let run = 0; run < 2000; run++) {
      const parser = new XmppStreamParser(
        { ...limits, maxStanzaBytes: 2048 },
        run % 2 ? 'stream' : 'websocket',
      );
      if (run % 2) parser.write(OPEN);
      try {
        for (let i = 0; i < 30; i++) {
          let chunk = '';
          const length = Math.floor(random() * 20);
          for (let j = 0; j < length; j++)
            chunk += alphabet[Math.floor(random() * alphabet.length)];
          parser.write(chunk);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(StreamError);
      }
    }
  });
});

describe('XmppStreamParser and whitespace keepalives', () => {
  it('never counts keepalives between elements toward the element limit', () => {
    const parser = new XmppStreamParser({ ...limits, maxStanzaBytes: 1024 }, 'stream');
    feed(parser, OPEN, '<presence/>');
    // Far more single blanks than the limit and a slice, as an idle client sends them.
    for (let i = 0; i < 20_000; i++) expect(parser.write(i % 7 ? ' ' : '\n')).toEqual([]);
    const events = feed(parser, "<message id='after'/>", ' ', '\t ');
    expect(events.map((e) => e.kind === 'element' && e.element.attrs.id)).toEqual(['after']);
    // Also straight after the stream header, before any stanza.
    const fresh = new XmppStreamParser({ ...limits, maxStanzaBytes: 1024 }, 'stream');
    feed(fresh, OPEN);
    for (let i = 0; i < 20_000; i++) fresh.write(' ');
    expect(feed(fresh, '<presence/>').map((e) => e.kind)).toEqual(['element']);
  });

  it('keeps blanks that are inside a tag or an element', () => {
    const parser = new XmppStreamParser(limits, 'stream');
    feed(parser, OPEN, '<message/>');
    const events = feed(
      parser,
      '<message',
      ' ',
      "id='a'>",
      '<body>',
      ' ',
      ' ',
      '</body></message>',
    );
    const message = (events[0] as Extract<StreamEvent, { kind: 'element' }>).element;
    expect(message.attrs.id).toBe('a');
    expect(message.getChildText('body')).toBe('  ');
    const value = feed(
      new XmppStreamParser(limits, 'stream'),
      OPEN,
      "<message id='x",
      ' ',
      ' ',
      "y'/>",
    );
    expect((value[1] as Extract<StreamEvent, { kind: 'element' }>).element.attrs.id).toBe('x  y');
  });

  it('still bounds blanks inside an unfinished element', () => {
    const parser = new XmppStreamParser({ ...limits, maxStanzaBytes: 1024 }, 'stream');
    feed(parser, OPEN, '<message><body>');
    expect(() => {
      for (let i = 0; i < 20_000; i++) parser.write(' ');
    }).toThrow(StreamError);
  });
});
