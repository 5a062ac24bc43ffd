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
