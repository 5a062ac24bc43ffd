import { describe, expect, it } from 'vitest';
import { decodePlain, encodePlain } from './sasl-plain';

describe('decodePlain', () => {
  it('reads authzid, authcid and password', () => {
    expect(decodePlain(encodePlain('alice', 'token', 'alice@example.com'))).toEqual({
      authzid: 'alice@example.com',
      authcid: 'alice',
      password: 'token',
    });
    expect(decodePlain(encodePlain('alice', 'a.b.c'))).toEqual({
      authzid: '',
      authcid: 'alice',
      password: 'a.b.c',
    });
  });

  it('refuses what is not base64', () => {
    expect(decodePlain('not base64!')).toBe('incorrect-encoding');
    expect(decodePlain('abc')).toBe('incorrect-encoding');
  });

  it('refuses empty and incomplete messages', () => {
    expect(decodePlain('=')).toBe('malformed-request');
    expect(decodePlain('')).toBe('malformed-request');
    expect(decodePlain(Buffer.from('alice\u0000token').toString('base64'))).toBe(
      'malformed-request',
    );
    expect(decodePlain(encodePlain('', 'token'))).toBe('malformed-request');
    expect(decodePlain(encodePlain('alice', ''))).toBe('malformed-request');
  });
});
