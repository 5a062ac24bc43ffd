import { describe, expect, it } from 'vitest';
import { hashKey, pickSlot } from './sender-binding';

const endpoints = ['10.0.0.1:5555', '10.0.0.2:5555', '10.0.0.3:5555'];
const hashes = endpoints.map(hashKey);
const senders = Array.from({ length: 6000 }, (_, i) => `user${i}@example.com/res`);

function slotOf(sender: string, keys: string[], connections: number) {
  const slot = pickSlot(hashKey(sender), keys.map(hashKey), connections);
  return `${keys[slot.endpoint]}#${slot.connection}`;
}

describe('sender binding', () => {
  it('hashes a key the same way every time (FNV-1a)', () => {
    expect(hashKey('')).toBe(0x811c9dc5);
    expect(hashKey('a')).toBe(0xe40c292c);
    expect(hashKey('alice@example.com')).toBe(hashKey('alice@example.com'));
  });

  it('binds a sender to the same connection while the endpoints stay the same', () => {
    for (const sender of senders.slice(0, 200)) {
      const first = pickSlot(hashKey(sender), hashes, 8);
      for (let i = 0; i < 3; i++) expect(pickSlot(hashKey(sender), hashes, 8)).toEqual(first);
    }
  });

  it('does not depend on the order the endpoints are listed in', () => {
    const reversed = [...endpoints].reverse();
    for (const sender of senders.slice(0, 500)) {
      expect(slotOf(sender, reversed, 4)).toBe(slotOf(sender, endpoints, 4));
    }
  });

  it('spreads senders evenly over endpoints x connections', () => {
    const counts = new Map<string, number>();
    for (const sender of senders) {
      const slot = slotOf(sender, endpoints, 10);
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
    expect(counts.size).toBe(30);
    const expected = senders.length / 30;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.7);
      expect(count).toBeLessThan(expected * 1.3);
    }
  });

  it('moves only about a quarter of the senders when a fourth endpoint appears, all to it', () => {
    const grown = [...endpoints, '10.0.0.4:5555'];
    let moved = 0;
    for (const sender of senders) {
      const before = slotOf(sender, endpoints, 4);
      const after = slotOf(sender, grown, 4);
      if (before !== after) {
        moved++;
        expect(after.startsWith('10.0.0.4:5555#')).toBe(true);
      }
    }
    expect(moved / senders.length).toBeGreaterThan(0.18);
    expect(moved / senders.length).toBeLessThan(0.32);
  });

  it('moves only the senders of an endpoint that vanishes', () => {
    const shrunk = endpoints.filter((key) => key !== '10.0.0.2:5555');
    for (const sender of senders) {
      const before = slotOf(sender, endpoints, 4);
      if (!before.startsWith('10.0.0.2:5555#')) expect(slotOf(sender, shrunk, 4)).toBe(before);
    }
  });

  it('keeps the connection index within the pool', () => {
    for (const sender of senders.slice(0, 300)) {
      const { connection } = pickSlot(hashKey(sender), hashes, 3);
      expect(connection).toBeGreaterThanOrEqual(0);
      expect(connection).toBeLessThan(3);
    }
    expect(pickSlot(hashKey('x'), [hashKey('only')], 1)).toEqual({ endpoint: 0, connection: 0 });
  });
});
