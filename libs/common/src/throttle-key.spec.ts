import { describe, expect, it } from 'vitest';
import { throttleKey } from './throttle-key';

describe('throttleKey', () => {
  it('counts IPv6 addresses by their /64, however they are written', () => {
    const key = throttleKey('2001:db8::1');
    expect(key).toBe('2001:db8:0:0::/64');
    expect(throttleKey('2001:db8:0:0:ffff::2')).toBe(key);
    expect(throttleKey('2001:0DB8:0000:0000:0000:0000:0000:0003')).toBe(key);
    expect(throttleKey('2001:db8::')).toBe(key);
    expect(throttleKey('2001:db8:0:1::1')).not.toBe(key);
    expect(throttleKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(throttleKey('2001:db8:1::1')).not.toBe(key);
  });

  it('counts IPv4 addresses, IPv4-mapped ones included, one by one', () => {
    expect(throttleKey('192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey('::FFFF:192.0.2.1')).toBe('192.0.2.1');
    expect(throttleKey('::ffff:c000:201')).toBe('192.0.2.1');
    expect(throttleKey('192.0.2.2')).not.toBe(throttleKey('192.0.2.1'));
  });

  it('keeps the IPv6 loopback address as it is', () => {
    expect(throttleKey('::1')).toBe('::1');
    expect(throttleKey('0:0:0:0:0:0:0:1')).toBe('::1');
    // Not the loopback address, and not mapped: only the prefix counts.
    expect(throttleKey('::2')).toBe('0:0:0:0::/64');
  });

  it('drops a zone id', () => {
    expect(throttleKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(throttleKey('fe80::2%1')).toBe(throttleKey('fe80::1'));
  });

  it('returns anything that is not an address as it is', () => {
    for (const input of [
      '',
      'unknown',
      'localhost',
      '2001:db8::g',
      '1.2.3.4%eth0',
      '%eth0',
      ':::',
    ]) {
      expect(throttleKey(input)).toBe(input);
    }
  });
});
