import { describe, expect, it } from 'vitest';
import { isLoopback, normaliseAddress } from './addresses';

describe('client addresses', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost', 'unknown'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('writes IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(normaliseAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
