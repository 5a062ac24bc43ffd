import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo';

describe('Fifo', () => {
  it('returns items in insertion order across compactions', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      fifo.push(i);
      if (i % 3 === 0) out.push(fifo.shift()!);
    }
    for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(fifo.length).toBe(0);
    expect(fifo.peek()).toBeUndefined();
  });

  it('drains and filters in order', () => {
    const fifo = new Fifo<number>();
    [1, 2, 3, 4, 5].forEach((n) => fifo.push(n));
    fifo.shift();
    expect(fifo.removeWhere((n) => n % 2 === 0)).toEqual([2, 4]);
    expect(fifo.drain()).toEqual([3, 5]);
    expect(fifo.length).toBe(0);
  });
});
