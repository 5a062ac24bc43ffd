import { describe, expect, it } from 'vitest';
import { pickInstance } from './balancing';

const instances = (...ids: string[]) => ids.map((id) => ({ id }));

describe('pickInstance', () => {
  it('has nothing to pick from no instance, and the only one from one', () => {
    expect(pickInstance([], 'random', 'a@x')).toBeUndefined();
    const [only] = instances('i1');
    expect(pickInstance([only!], 'bareSource', 'a@x')).toBe(only);
  });

  it('without balancing, the oldest instance serves', () => {
    const list = instances('old', 'new');
    expect(pickInstance(list, undefined, 'a@x')).toBe(list[0]);
  });

  it('random: uniform over the instances', () => {
    const list = instances('i1', 'i2', 'i3');
    expect(pickInstance(list, 'random', 'a@x', () => 0)).toBe(list[0]);
    expect(pickInstance(list, 'random', 'a@x', () => 0.5)).toBe(list[1]);
    expect(pickInstance(list, 'random', 'a@x', () => 0.999)).toBe(list[2]);
  });

  it('bareSource: a sender always gets the same instance, whatever the order of the list', () => {
    const list = instances('i1', 'i2', 'i3', 'i4');
    for (let n = 0; n < 50; n++) {
      const sender = `user${n}@example.com`;
      const chosen = pickInstance(list, 'bareSource', sender)!;
      expect(pickInstance([...list].reverse(), 'bareSource', sender)).toBe(chosen);
    }
  });

  it('bareSource: spreads senders over the instances', () => {
    const list = instances('i1', 'i2', 'i3', 'i4');
    const counts = new Map<string, number>();
    for (let n = 0; n < 4000; n++) {
      const chosen = pickInstance(list, 'bareSource', `user${n}@example.com`)!;
      counts.set(chosen.id, (counts.get(chosen.id) ?? 0) + 1);
    }
    for (const id of ['i1', 'i2', 'i3', 'i4']) expect(counts.get(id)).toBeGreaterThan(800);
  });

  it('bareSource: when an instance leaves, only its senders move', () => {
    const list = instances('i1', 'i2', 'i3');
    const remaining = list.filter((i) => i.id !== 'i2');
    for (let n = 0; n < 500; n++) {
      const sender = `user${n}@example.com`;
      const before = pickInstance(list, 'bareSource', sender)!;
      const after = pickInstance(remaining, 'bareSource', sender)!;
      if (before.id !== 'i2') expect(after).toBe(before);
    }
  });
});
