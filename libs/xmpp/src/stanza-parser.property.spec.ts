// Properties of the reusable StanzaParser (stanzas out of interlink frames) on generated
// input: a valid element round-trips and matches ltx.parse; anything else throws an Error (as
// ltx.parse does), never expands an entity, never accepts more than one element, and leaves
// the parser fit for the next stanza.
import fc from 'fast-check';
import { Element, parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { StanzaParser } from './stanza-parser';

const SEED = 20_261_122;
const settings = { seed: SEED, numRuns: 400 };

function isXmlChar(char: string): boolean {
  const code = char.codePointAt(0)!;
  return (
    (code >= 0x20 || code === 0x9 || code === 0xa || code === 0xd) &&
    code !== 0xfffe &&
    code !== 0xffff
  );
}

const xmlText = (maxLength: number) =>
  fc.string({ unit: 'binary', maxLength }).map((s) => [...s].filter(isXmlChar).join(''));

const element: fc.Arbitrary<Element> = fc.letrec<{ node: Element }>((tie) => ({
  node: fc
    .record({
      name: fc.constantFrom('message', 'iq', 'presence', 'body', 'x', 'query', 'item'),
      attrs: fc.dictionary(fc.constantFrom('to', 'from', 'id', 'type', 'xmlns', 'k'), xmlText(30), {
        maxKeys: 4,
      }),
      children: fc.array(fc.oneof({ depthSize: 'small' }, xmlText(30), tie('node')), {
        maxLength: 3,
        depthIdentifier: 'tree',
      }),
    })
    .map(({ name, attrs, children }) => {
      const el = new Element(name, attrs);
      for (const child of children) {
        if (typeof child !== 'string') el.cnode(child as Element);
        else if (child !== '') el.t(child);
      }
      return el;
    }),
})).node;

const fragment = fc.oneof(
  fc.constantFrom(
    '<',
    '>',
    '/>',
    '</',
    '&',
    '&bogus;',
    '&#xD800;',
    "'",
    '"',
    '<!DOCTYPE x [<!ENTITY e "boom">]>',
    '&e;',
    '<!--',
    '<?pi?>',
    '<![CDATA[',
    ']]>',
    '<message/>',
    'text',
  ),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

const edit = fc.record({
  at: fc.nat(),
  remove: fc.integer({ min: 0, max: 6 }),
  insert: fc.oneof(fc.constant(''), fragment),
});

function mutate(text: string, edits: { at: number; remove: number; insert: string }[]): string {
  let out = text;
  for (const e of edits) {
    const at = e.at % (out.length + 1);
    out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
  }
  return out;
}

function occurrences(text: string, word: string): number {
  return text.split(word).length - 1;
}

/** ltx.parse's verdict: the element's string form, or null when it throws. */
function reference(text: string): string | null {
  try {
    return parse(text).toString();
  } catch {
    return null;
  }
}

// Generous for a loaded machine: each property takes well under a second alone.
describe('StanzaParser properties', { timeout: 30_000 }, () => {
  it('round-trips any element and agrees with ltx.parse', () => {
    const parser = new StanzaParser();
    fc.assert(
      fc.property(element, (el) => {
        const text = el.toString();
        const parsed = parser.parse(text);
        expect(parsed.toString()).toBe(text);
        expect(parsed.toString()).toBe(parse(text).toString());
        expect(parsed.parent ?? null).toBeNull();
      }),
      settings,
    );
  });

  it('throws only Errors on mutated stanzas, accepts only what ltx.parse accepts, and recovers', () => {
    const parser = new StanzaParser();
    fc.assert(
      fc.property(element, fc.array(edit, { minLength: 1, maxLength: 5 }), (el, edits) => {
        const text = mutate(el.toString(), edits);
        let result: string | null = null;
        try {
          result = parser.parse(text).toString();
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
        }
        // Stricter than ltx.parse (exactly one element), never more lenient or different.
        if (result !== null) expect(result).toBe(reference(text));
        // The entity's value may survive as literal text, never as an expansion of `&e;`.
        expect(occurrences(result ?? '', 'boom')).toBeLessThanOrEqual(occurrences(text, 'boom'));
        // Whatever came before, the next stanza parses.
        expect(parser.parse(`<message id='next'/>`).attrs.id).toBe('next');
      }),
      settings,
    );
  });

  it('throws only Errors on random text', () => {
    const parser = new StanzaParser();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.string({ unit: fragment, maxLength: 30 }),
        ),
        (text) => {
          try {
            const result = parser.parse(text).toString();
            expect(result).toBe(reference(text));
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
        },
      ),
      settings,
    );
  });

  it('never expands a DTD entity and refuses an undefined one', () => {
    const parser = new StanzaParser();
    const dtd = fc.constantFrom(
      '<!DOCTYPE m [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
      '<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    );
    fc.assert(
      fc.property(
        dtd,
        fc.constantFrom('&lol2;', '&xxe;', '&lol;', 'plain'),
        fc.boolean(),
        (doctype, use, before) => {
          const stanza = `<message><body>${use}</body></message>`;
          const text = before ? doctype + stanza : stanza;
          let body: string | null = null;
          try {
            body = parser.parse(text).getChildText('body');
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
          if (use !== 'plain') expect(body).toBeNull();
          if (body !== null) expect(body).toBe('plain');
        },
      ),
      settings,
    );
  });

  it('parses deep nesting without recursion trouble', () => {
    const parser = new StanzaParser();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), (depth) => {
        const text = `<message>${'<x>'.repeat(depth)}${'</x>'.repeat(depth)}</message>`;
        const parsed = parser.parse(text);
        expect(parsed.name).toBe('message');
      }),
      { seed: SEED, numRuns: 30 },
    );
  });
});
