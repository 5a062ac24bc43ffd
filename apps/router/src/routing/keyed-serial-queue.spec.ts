import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from './keyed-serial-queue';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedSerialQueue', () => {
  it('keeps each key in order even when earlier tasks are slower', async () => {
    const queue = new KeyedSerialQueue(1000, () => undefined);
    const seen: number[] = [];
    await Promise.all(
      [30, 1, 10, 0, 5].map((delay, i) =>
        queue.run('alice', async () => {
          await sleep(delay);
          seen.push(i);
        }),
      ),
    );
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs different keys concurrently', async () => {
    const queue = new KeyedSerialQueue(1000, () => undefined);
    const seen: string[] = [];
    await Promise.all([
      queue.run('slow', async () => {
        await sleep(30);
        seen.push('slow');
      }),
      queue.run('fast', () => {
        seen.push('fast');
      }),
    ]);
    expect(seen).toEqual(['fast', 'slow']);
  });

  it('reports a failing task and goes on with the next one', async () => {
    const errors: unknown[] = [];
    const queue = new KeyedSerialQueue(1000, (error) => errors.push(error));
    const seen: number[] = [];
    await Promise.all([
      queue.run('k', () => {
        throw new Error('boom');
      }),
      queue.run('k', () => {
        seen.push(2);
      }),
    ]);
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([2]);
    expect(queue.size).toBe(0);
  });

  it('makes submitters wait past the bound instead of growing', async () => {
    const queue = new KeyedSerialQueue(2, () => undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = queue.run('a', () => gate);
    const second = queue.run('b', () => gate);
    let thirdStarted = false;
    const third = queue.run('c', () => {
      thirdStarted = true;
    });
    await sleep(10);
    expect(queue.size).toBe(2);
    expect(thirdStarted).toBe(false);
    release();
    await Promise.all([first, second, third]);
    expect(thirdStarted).toBe(true);
  });
});
