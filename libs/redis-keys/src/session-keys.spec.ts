import { describe, expect, it } from 'vitest';
import {
  datacenterResourcesKey,
  decodeEndpoint,
  decodeInvalidationNotice,
  encodeEndpoint,
  encodeInvalidationNotice,
  HOSTS_KEY,
  INVALIDATE_CHANNEL,
  nodeDomainsKey,
  nodeEndpointsKey,
  nodeHeartbeatKey,
  nodesKey,
  sessionKey,
} from './index';

describe('session table keys (ARCHITECTURE §5)', () => {
  it('are the seed layout, unprefixed', () => {
    expect(HOSTS_KEY).toBe('hosts');
    expect(nodesKey('dc1.example.com')).toBe('dc1.example.com#{nodes}');
    expect(nodeHeartbeatKey('dc1.example.com', 'node-a')).toBe(
      'dc1.example.com#node-a#{heartbeat}',
    );
    expect(nodeEndpointsKey('dc1.example.com', 'node-a')).toBe(
      'dc1.example.com#node-a#{endpoints}',
    );
    expect(nodeDomainsKey('dc1.example.com', 'node-a')).toBe('dc1.example.com#node-a#{domains}');
    expect(sessionKey('alice@example.com/phone')).toBe('alice@example.com/phone');
    expect(sessionKey('muc.example.com')).toBe('muc.example.com');
    expect(datacenterResourcesKey('dc1.example.com', 'alice@example.com')).toBe(
      'dc1.example.com#alice@example.com#resources',
    );
    expect(INVALIDATE_CHANNEL).toBe('meridian:invalidate');
  });

  it('write endpoints as ip#port and read them back, IPv6 included', () => {
    expect(encodeEndpoint('10.0.0.7', 5555)).toBe('10.0.0.7#5555');
    expect(decodeEndpoint('10.0.0.7#5555')).toEqual({ host: '10.0.0.7', port: 5555 });
    expect(decodeEndpoint(encodeEndpoint('fd00::1', 5556))).toEqual({
      host: 'fd00::1',
      port: 5556,
    });
    expect(decodeEndpoint('node.dc1.internal#5555')).toEqual({
      host: 'node.dc1.internal',
      port: 5555,
    });
  });

  it('refuse endpoint members that are not ip#port', () => {
    for (const member of [
      '10.0.0.7',
      '#5555',
      '10.0.0.7#',
      '10.0.0.7#port',
      '10.0.0.7#0',
      '10.0.0.7#70000',
    ]) {
      expect(decodeEndpoint(member)).toBeNull();
    }
  });
});

describe('invalidation notices', () => {
  it('round-trip', () => {
    const notice = {
      jids: ['alice@example.com/phone', 'alice@example.com'],
      origin: 'dc1.example.com#node-a',
    };
    expect(decodeInvalidationNotice(encodeInvalidationNotice(notice))).toEqual(notice);
    expect(JSON.parse(encodeInvalidationNotice(notice))).toEqual(notice);
  });

  it('are null for anything else on the channel', () => {
    for (const message of [
      '',
      'alice@example.com',
      'null',
      '[]',
      '{"jids":"alice"}',
      '{"jids":[1]}',
    ]) {
      expect(decodeInvalidationNotice(message)).toBeNull();
    }
    expect(decodeInvalidationNotice('{"jids":["a@x"],"origin":7}')).toEqual({ jids: ['a@x'] });
  });
});
