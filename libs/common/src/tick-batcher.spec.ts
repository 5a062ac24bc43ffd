import { describe, expect, it } from 'vitest';
import { TickBatcher } from './tick-batcher';

describe('TickBatcher', () => {
  it('runs what was added in one turn as one batch, split at maxBatch, in order', async () => {
    const calls: number[][] = [];
    const batcher = new TickBatcher<number>(async (items) => {
      calls.push(items);
    }, 3);
    const first = [1, 2, 3, 4, 5].map((n) => batcher.add(n));
    expect(batcher.size).toBe(5);
    await Promise.all(first);
    await batcher.add(6);
    expect(calls).toEqual([[1, 2, 3], [4, 5], [6]]);
    expect(batcher.size).toBe(0);
  });

  it('rejects every caller of a failed batch, and only those', async () => {
    let fail = true;
    const batcher = new TickBatcher<string>(async () => {
      if (fail) throw new Error('redis down');
    });
    const failed = [batcher.add('a'), batcher.add('b')];
    await expect(Promise.all(failed)).rejects.toThrow('redis down');
    await expect(failed[1]).rejects.toThrow('redis down');
    fail = false;
    await expect(batcher.add('c')).resolves.toBeUndefined();
  });
});
