import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('gives the burst at once, then the rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100); // one token every 100 ms at 10/s
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
  });

  it('refills up to the burst only', () => {
    const bucket = new TokenBucket(1000, 2, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.take(60_000)).toBe(0);
    expect(bucket.take(60_000)).toBe(0);
    expect(bucket.take(60_000)).toBeGreaterThan(0);
  });

  it('takes new limits, keeping at most the new burst', () => {
    const bucket = new TokenBucket(10, 100, 0);
    bucket.setLimits(1, 1);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(1000);
  });
});
