import { describe, expect, it } from 'vitest';
import { randomBase64url, randomHex, randomPoolBytes } from './random-pool';

describe('random pool', () => {
  it('hands out distinct identifiers of the asked size, across refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) seen.add(randomHex(12));
    expect(seen.size).toBe(5_000);
    for (const id of seen) expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(randomBase64url(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('returns copies: changing one does not touch the next', () => {
    const a = randomPoolBytes(16);
    a.fill(0);
    expect(randomPoolBytes(16).equals(Buffer.alloc(16))).toBe(false);
  });

  it('refuses sizes outside 1..256', () => {
    expect(() => randomPoolBytes(0)).toThrow(RangeError);
    expect(() => randomPoolBytes(257)).toThrow(RangeError);
    expect(() => randomPoolBytes(1.5)).toThrow(RangeError);
  });
});
