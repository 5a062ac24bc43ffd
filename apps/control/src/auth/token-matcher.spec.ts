import { describe, expect, it } from 'vitest';
import { TokenMatcher } from './token-matcher';

describe('TokenMatcher', () => {
  const matcher = new TokenMatcher([
    { name: 'ops', token: 'ops-token-0123456789', readOnly: false },
    { name: 'audit', token: 'audit-token-0123456789', readOnly: true },
  ]);

  it('names the token that matches', () => {
    expect(matcher.match('ops-token-0123456789')).toEqual({ name: 'ops', readOnly: false });
    expect(matcher.match('audit-token-0123456789')).toEqual({ name: 'audit', readOnly: true });
  });

  it('refuses near misses, prefixes and the empty string', () => {
    expect(matcher.match('ops-token-012345678')).toBeNull();
    expect(matcher.match('ops-token-01234567890')).toBeNull();
    expect(matcher.match('')).toBeNull();
  });

  it('matches nothing when no token is configured', () => {
    expect(new TokenMatcher([]).match('anything')).toBeNull();
  });
});
