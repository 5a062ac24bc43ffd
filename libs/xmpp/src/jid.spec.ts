import { describe, expect, it } from 'vitest';
import { bareOf, bareString, isDomainJid, jidToString, parseJid } from './jid';

describe('parseJid', () => {
  it('parses and normalises full, bare and domain JIDs', () => {
    expect(parseJid('Alice@Example.COM/Phone')).toEqual({
      local: 'alice',
      domain: 'example.com',
      resource: 'Phone',
    });
    expect(parseJid('bob@example.com')).toEqual({
      local: 'bob',
      domain: 'example.com',
      resource: '',
    });
    expect(parseJid('muc.example.com')).toEqual({
      local: '',
      domain: 'muc.example.com',
      resource: '',
    });
    expect(parseJid('example.com/res/with/slashes')?.resource).toBe('res/with/slashes');
    expect(parseJid('example.com.')?.domain).toBe('example.com');
  });

  it('returns null for what is not a JID', () => {
    for (const bad of [
      '',
      '@example.com',
      'a@',
      'a@b@c',
      'a@example.com/',
      'a b@example.com',
      'x'.repeat(1024) + '@e.com',
    ]) {
      expect(parseJid(bad), bad).toBeNull();
    }
  });

  it('refuses a domain with an empty label, which would not parse the same way twice', () => {
    for (const bad of ['..', 'a@example..com', '.example.com', 'a@example.com..']) {
      expect(parseJid(bad), bad).toBeNull();
    }
  });

  it('bounds the localpart after case-folding, so its string form parses again', () => {
    // 'İ' is 2 bytes of UTF-8; lower-cased it is 'i̇', 3 bytes: 1022 bytes become 1533.
    const long = `${'İ'.repeat(511)}@example.com`;
    expect(parseJid(long)).toBeNull();
    const fits = parseJid(`${'İ'.repeat(341)}@example.com`)!;
    expect(parseJid(jidToString(fits))).toEqual(fits);
  });

  it('round-trips through its string form', () => {
    for (const raw of ['alice@example.com/phone', 'example.com', 'bob@example.com']) {
      expect(jidToString(parseJid(raw)!)).toBe(raw);
    }
    const full = parseJid('alice@example.com/phone')!;
    expect(bareString(full)).toBe('alice@example.com');
    expect(jidToString(bareOf(full))).toBe('alice@example.com');
    expect(isDomainJid(parseJid('example.com')!)).toBe(true);
  });
});
