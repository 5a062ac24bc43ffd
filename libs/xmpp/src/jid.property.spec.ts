// Properties of the JID parser on generated input: it never throws, what it accepts is within
// RFC 7622's bounds, its string form parses back to the same JID (so comparing by string and
// by parts agree), and well-formed JIDs come out normalised as routing compares them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bareOf, bareString, isBare, jidToString, parseJid, sameJid, type Jid } from './jid';

const SEED = 20_261_122;
const settings = { seed: SEED, numRuns: 500 };

const localChar = fc.constantFrom(...'abcXYZ019._-+éÜß中'.split(''));
const labelChar = fc.constantFrom(...'abcxyzABC0129-'.split(''));
const label = fc.string({ unit: labelChar, minLength: 1, maxLength: 12 });
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const local = fc.string({ unit: localChar, minLength: 1, maxLength: 20 });
const resource = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 });

/** Well-formed JIDs: bare, full or domain, as a client might write them. */
const wellFormed: fc.Arbitrary<JidParts> = fc.record({
  local: fc.option(local, { nil: undefined }),
  domain,
  resource: fc.option(resource, { nil: undefined }),
  trailingDot: fc.boolean(),
});

interface JidParts {
  local?: string;
  domain: string;
  resource?: string;
  trailingDot: boolean;
}

function written(parts: JidParts): string {
  const bare = `${parts.local === undefined ? '' : `${parts.local}@`}${parts.domain}${parts.trailingDot ? '.' : ''}`;
  return parts.resource === undefined ? bare : `${bare}/${parts.resource}`;
}

const mutation = fc.record({
  at: fc.nat(),
  remove: fc.integer({ min: 0, max: 3 }),
  insert: fc.oneof(
    fc.constantFrom('@', '/', '.', '..', ' ', '\u0000', '"', '<', '&', 'İ', 'ẞ', '\u0130'),
    fc.string({ unit: 'binary', maxLength: 3 }),
  ),
});

function mutate(text: string, edits: { at: number; remove: number; insert: string }[]): string {
  let out = text;
  for (const edit of edits) {
    const at = edit.at % (out.length + 1);
    out = out.slice(0, at) + edit.insert + out.slice(at + edit.remove);
  }
  return out;
}

/** Anything a peer might put in a `to` or `from`: random, mutated, or long. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('a', '@', '/', '.', 'B', ' ', 'İ'), maxLength: 40 }),
  fc
    .tuple(wellFormed, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([parts, edits]) => mutate(written(parts), edits)),
  fc
    .tuple(fc.constantFrom('a', 'İ', '中', '.', '@'), fc.integer({ min: 500, max: 1100 }), domain)
    .map(([char, count, d]) => `${char.repeat(count)}@${d}`),
);

function withinBounds(j: Jid): boolean {
  return [j.local, j.domain, j.resource].every((part) => Buffer.byteLength(part) <= 1023);
}

// Generous for a loaded machine: each property takes well under a second alone.
describe('parseJid properties', { timeout: 30_000 }, () => {
  it('never throws, and accepts only JIDs within the bounds of RFC 7622', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = parseJid(text);
        if (parsed === null) return;
        expect(withinBounds(parsed)).toBe(true);
        expect(parsed.domain).not.toBe('');
        expect(parsed.domain).not.toMatch(/[@/\s]/);
        expect(parsed.local).not.toMatch(/["&'/:<>@\s]/);
      }),
      settings,
    );
  });

  it('parses its own string form back to the same JID (stable normal form)', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const parsed = parseJid(text);
        if (parsed === null) return;
        const again = parseJid(jidToString(parsed));
        expect(again, `${JSON.stringify(text)} -> ${jidToString(parsed)}`).toEqual(parsed);
        expect(sameJid(again!, parsed)).toBe(true);
        expect(parseJid(bareString(parsed))).toEqual(bareOf(parsed));
      }),
      settings,
    );
  });

  it('reads well-formed JIDs into their parts, case-folding all but the resource', () => {
    fc.assert(
      fc.property(wellFormed, (parts) => {
        const parsed = parseJid(written(parts));
        expect(parsed).not.toBeNull();
        expect(parsed!.local).toBe((parts.local ?? '').toLowerCase());
        expect(parsed!.domain).toBe(parts.domain.toLowerCase());
        expect(parsed!.resource).toBe(parts.resource ?? '');
        expect(isBare(parsed!)).toBe(parts.resource === undefined);
      }),
      settings,
    );
  });

  it('treats two spellings alike exactly when their normal forms are equal', () => {
    fc.assert(
      fc.property(wellFormed, fc.boolean(), (parts, shout) => {
        const a = parseJid(written(parts))!;
        const variant = {
          ...parts,
          local: parts.local && (shout ? parts.local.toUpperCase() : parts.local),
          domain: shout ? parts.domain.toUpperCase() : parts.domain,
          trailingDot: !parts.trailingDot,
        };
        const b = parseJid(written(variant));
        // Upper-casing can leave the bounds (ß -> SS is longer); otherwise the JIDs are equal.
        if (b === null) return;
        expect(sameJid(a, b)).toBe(jidToString(a) === jidToString(b));
      }),
      settings,
    );
  });
});
