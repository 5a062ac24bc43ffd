import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handshakeDigest, handshakeMatches, newStreamId, provenSecret } from './handshake';

describe('XEP-0114 handshake', () => {
  it('is the lowercase hex SHA1 of the stream id followed by the secret', () => {
    expect(handshakeDigest('3BF96D32', 'sunshine')).toBe(
      '8e2449516c688436d4ca76dad7e0c43ca1c20b18',
    );
  });

  it('accepts the right digest in either case and with surrounding whitespace', () => {
    const digest = handshakeDigest('abc', 'secret-1');
    expect(handshakeMatches(digest, 'abc', 'secret-1')).toBe(true);
    expect(handshakeMatches(` ${digest.toUpperCase()}\n`, 'abc', 'secret-1')).toBe(true);
  });

  it('refuses a wrong secret, another stream id, and digests of any other length', () => {
    const digest = handshakeDigest('abc', 'secret-1');
    expect(handshakeMatches(digest, 'abc', 'secret-2')).toBe(false);
    expect(handshakeMatches(digest, 'abd', 'secret-1')).toBe(false);
    expect(handshakeMatches('', 'abc', 'secret-1')).toBe(false);
    expect(handshakeMatches(digest.slice(1), 'abc', 'secret-1')).toBe(false);
    expect(handshakeMatches(`${digest}0`, 'abc', 'secret-1')).toBe(false);
    expect(handshakeMatches('é'.repeat(40), 'abc', 'secret-1')).toBe(false);
  });

  it('uses UTF-8 for secrets outside ASCII', () => {
    expect(handshakeDigest('id', 'sécret')).toBe(
      createHash('sha1').update(Buffer.from('idsécret', 'utf8')).digest('hex'),
    );
  });

  it('proves the current secret, or during a rotation the previous one, and tells which', () => {
    const current = handshakeDigest('abc', 'new-secret');
    const previous = handshakeDigest('abc', 'old-secret');
    const neither = handshakeDigest('abc', 'any-secret');
    expect(provenSecret(current, 'abc', 'new-secret', 'old-secret')).toBe('new-secret');
    expect(provenSecret(previous, 'abc', 'new-secret', 'old-secret')).toBe('old-secret');
    expect(provenSecret(neither, 'abc', 'new-secret', 'old-secret')).toBeNull();
    expect(provenSecret(current, 'abc', 'new-secret', undefined)).toBe('new-secret');
    // Once the previous secret is removed, it proves nothing.
    expect(provenSecret(previous, 'abc', 'new-secret', undefined)).toBeNull();
    expect(provenSecret(previous, 'abd', 'new-secret', 'old-secret')).toBeNull();
    expect(provenSecret('', 'abc', 'new-secret', 'old-secret')).toBeNull();
  });

  it('gives every stream a fresh id', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newStreamId()));
    expect(ids.size).toBe(100);
    expect([...ids][0]).toMatch(/^[0-9a-f]{32}$/);
  });
});
