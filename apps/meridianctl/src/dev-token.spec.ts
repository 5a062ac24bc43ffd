import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { localpartOf, mintDevToken, parseDuration } from './dev-token';

describe('dev tokens', () => {
  it('signs HS256 with the localpart as sub and an exp', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const minted = await mintDevToken({
      jid: 'Alice@example.com/phone',
      secret: 'x'.repeat(32),
      ttlSeconds: 60,
      now,
    });
    expect(minted.username).toBe('alice');
    expect(minted.expiresAt).toBe('2026-01-01T00:01:00.000Z');
    expect(decodeProtectedHeader(minted.token).alg).toBe('HS256');
    expect(decodeJwt(minted.token)).toEqual({
      sub: 'alice',
      iat: now / 1000,
      exp: now / 1000 + 60,
    });
  });

  it('finds the localpart of bare, full and domain-less JIDs', () => {
    expect(localpartOf('bob@example.com')).toBe('bob');
    expect(localpartOf('bob@example.com/res@x')).toBe('bob');
    expect(localpartOf('bob')).toBe('bob');
  });

  it('parses durations', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('24h')).toBe(86_400);
    expect(parseDuration('7d')).toBe(604_800);
    expect(parseDuration('0')).toBeNull();
    expect(parseDuration('1w')).toBeNull();
  });
});
