import { describe, expect, it } from 'vitest';
import { requestedSubprotocols, upgradeRefusal, webSocketClient } from './upgrade-request';

describe('upgradeRefusal', () => {
  const xmpp = { 'sec-websocket-protocol': 'xmpp' };

  it('takes /xmpp-websocket with the xmpp subprotocol, a query string ignored', () => {
    expect(upgradeRefusal('/xmpp-websocket', xmpp)).toBeNull();
    expect(upgradeRefusal('/xmpp-websocket?x=1', xmpp)).toBeNull();
    expect(
      upgradeRefusal('/xmpp-websocket', { 'sec-websocket-protocol': 'mqtt, xmpp' }),
    ).toBeNull();
  });

  it('refuses other paths with 404', () => {
    for (const url of ['/', '/xmpp-websocket/', '/XMPP-WEBSOCKET', '/health', undefined]) {
      expect(upgradeRefusal(url, xmpp)).toMatchObject({ status: 404, reason: 'path' });
    }
  });

  it('refuses a missing or different subprotocol with 400 (RFC 7395 §3.3.1)', () => {
    for (const protocol of [undefined, '', 'mqtt', 'XMPP', 'xmpp-ish']) {
      expect(
        upgradeRefusal('/xmpp-websocket', { 'sec-websocket-protocol': protocol }),
      ).toMatchObject({ status: 400, reason: 'subprotocol' });
    }
  });

  it('splits the protocol list', () => {
    expect(requestedSubprotocols(' a ,b,, xmpp')).toEqual(['a', 'b', 'xmpp']);
    expect(requestedSubprotocols(undefined)).toEqual([]);
  });
});

describe('webSocketClient', () => {
  it('a loopback peer that forwards nothing is local, hence secure', () => {
    expect(webSocketClient('127.0.0.1', {})).toEqual({
      remoteAddress: '127.0.0.1',
      secure: true,
      loopback: true,
    });
    expect(webSocketClient('::ffff:127.0.0.1', {})).toEqual({
      remoteAddress: '127.0.0.1',
      secure: true,
      loopback: true,
    });
    expect(webSocketClient('::1', {})).toEqual({
      remoteAddress: '::1',
      secure: true,
      loopback: true,
    });
  });

  it('any other peer is a plain ws:// client whose headers are ignored', () => {
    const claims = { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' };
    expect(webSocketClient('203.0.113.9', claims)).toEqual({
      remoteAddress: '203.0.113.9',
      secure: false,
      loopback: false,
    });
    expect(webSocketClient('::ffff:203.0.113.9', {})).toEqual({
      remoteAddress: '203.0.113.9',
      secure: false,
      loopback: false,
    });
    expect(webSocketClient(undefined, {})).toEqual({
      remoteAddress: 'unknown',
      secure: false,
      loopback: false,
    });
  });

  it('a TLS connection is secure whoever the peer is', () => {
    expect(webSocketClient('203.0.113.9', {}, true).secure).toBe(true);
  });

  it('a loopback proxy gives the client address (its own, last entry) and the scheme', () => {
    expect(
      webSocketClient('127.0.0.1', {
        'x-forwarded-for': '10.0.0.1, 198.51.100.7',
        'x-forwarded-proto': 'https',
      }),
    ).toEqual({ remoteAddress: '198.51.100.7', secure: true, loopback: false });
    expect(
      webSocketClient('127.0.0.1', {
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-proto': 'http',
      }),
    ).toEqual({ remoteAddress: '198.51.100.7', secure: false, loopback: false });
    // Proxied without a scheme: secure only if the client is itself local.
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }).secure).toBe(false);
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).toEqual({
      remoteAddress: '127.0.0.1',
      secure: true,
      loopback: true,
    });
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-for': '[2001:db8::1]:4711' })).toEqual({
      remoteAddress: '2001:db8::1',
      secure: false,
      loopback: false,
    });
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-proto': 'HTTPS' }).secure).toBe(true);
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-proto': 'http' }).secure).toBe(false);
  });

  it('an unreadable forwarded address stays the proxy, and is not trusted as local', () => {
    expect(webSocketClient('127.0.0.1', { 'x-forwarded-for': 'unknown' })).toEqual({
      remoteAddress: '127.0.0.1',
      secure: false,
      loopback: false,
    });
  });
});
