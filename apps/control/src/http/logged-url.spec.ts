import { describe, expect, it } from 'vitest';
import { loggedUrl } from './logged-url';

describe('loggedUrl', () => {
  const tokens = ['admin-token-0123456789', 'a token/with+odd chars'];

  it('keeps paths and ordinary query parameters as they are', () => {
    expect(loggedUrl('/v1/config', tokens)).toBe('/v1/config');
    expect(loggedUrl('/v1/domains?after=a%20b&limit=5&flag', tokens)).toBe(
      '/v1/domains?after=a%20b&limit=5&flag',
    );
  });

  it('redacts credential-named query values', () => {
    expect(loggedUrl('/v1/config?access_token=xyz&comment=hi', tokens)).toBe(
      '/v1/config?access_token=**redacted**&comment=hi',
    );
    expect(loggedUrl('/v1/config?api%5Fkey=1&Password=2&secret=3', tokens)).toBe(
      '/v1/config?api%5Fkey=**redacted**&Password=**redacted**&secret=**redacted**',
    );
  });

  it('redacts an admin token wherever it appears, raw or percent-encoded', () => {
    expect(loggedUrl('/v1/config?comment=admin-token-0123456789', tokens)).toBe(
      '/v1/config?comment=**redacted**',
    );
    expect(loggedUrl(`/v1/domains/${encodeURIComponent('a token/with+odd chars')}`, tokens)).toBe(
      '/v1/domains/**redacted**',
    );
  });
});
