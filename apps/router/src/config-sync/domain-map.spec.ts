import { describe, expect, it } from 'vitest';
import { DomainMap, DomainMapBuilder, type DomainState } from './domain-map';

const on = (hostType = 'default'): DomainState => ({ hostType, enabled: true });
const off = (hostType = 'default'): DomainState => ({ hostType, enabled: false });

/** A reference Map driven alongside, to check the trie against. */
function randomOps(count: number, seed: number) {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  return Array.from({ length: count }, () => {
    const domain = `d${next() % 500}.example.net`;
    return next() % 3 === 0
      ? ({ op: 'delete', domain } as const)
      : ({ op: 'upsert', domain, state: next() % 2 ? on(`t${next() % 3}`) : off() } as const);
  });
}

describe('DomainMap', () => {
  it('starts empty', () => {
    expect(DomainMap.EMPTY.size).toBe(0);
    expect(DomainMap.EMPTY.get('a.example')).toBeUndefined();
    expect([...DomainMap.EMPTY]).toEqual([]);
  });

  it('never changes a map it derives from', () => {
    const a = DomainMap.EMPTY.with('a.example', on());
    const b = a.with('b.example', off()).with('a.example', off('gold'));
    const c = b.without('a.example');
    expect([...a]).toEqual([['a.example', on()]]);
    expect(new Map(b)).toEqual(
      new Map([
        ['a.example', off('gold')],
        ['b.example', off()],
      ]),
    );
    expect(new Map(c)).toEqual(new Map([['b.example', off()]]));
    expect([a.size, b.size, c.size]).toEqual([1, 2, 1]);
  });

  it('returns itself when an operation changes nothing', () => {
    const a = DomainMap.EMPTY.with('a.example', on());
    expect(a.with('a.example', on())).toBe(a);
    expect(a.without('b.example')).toBe(a);
    expect(a.without('a.example').without('a.example').size).toBe(0);
  });

  it('agrees with a plain Map over random upserts and deletes', () => {
    let map = DomainMap.EMPTY;
    const reference = new Map<string, DomainState>();
    for (const op of randomOps(5_000, 42)) {
      if (op.op === 'delete') {
        map = map.without(op.domain);
        reference.delete(op.domain);
      } else {
        map = map.with(op.domain, op.state);
        reference.set(op.domain, op.state);
      }
    }
    expect(map.size).toBe(reference.size);
    expect(new Map(map)).toEqual(reference);
    for (const domain of reference.keys()) expect(map.get(domain)).toEqual(reference.get(domain));
    expect(map.has('absent.example')).toBe(false);
  });

  it('implements the rest of ReadonlyMap', () => {
    const map = DomainMap.from([
      ['a.example', on()],
      ['b.example', off()],
    ]);
    expect(new Set(map.keys())).toEqual(new Set(['a.example', 'b.example']));
    expect([...map.values()]).toHaveLength(2);
    const seen: string[] = [];
    map.forEach((state, domain, self) => {
      expect(self).toBe(map);
      seen.push(`${domain}=${state.enabled}`);
    });
    expect(seen.sort()).toEqual(['a.example=true', 'b.example=false']);
  });

  it('builds in bulk with the same result as one entry at a time', () => {
    const entries = Array.from({ length: 3_000 }, (_, i) => [`d${i}.example`, on()] as const);
    const built = DomainMap.from(entries);
    const stepwise = entries.reduce((map, [d, s]) => map.with(d, s), DomainMap.EMPTY);
    expect(built.size).toBe(3_000);
    expect(new Map(built)).toEqual(new Map(stepwise));
    expect(built.changesSince(stepwise)).toEqual([]);
  });

  it('lets a builder overwrite an entry and be used once', () => {
    const builder = new DomainMapBuilder().set('a.example', on()).set('a.example', off());
    const map = builder.build();
    expect(map.size).toBe(1);
    expect(map.get('a.example')).toEqual(off());
    expect(() => builder.set('b.example', on())).toThrow(/already built/);
    expect(new DomainMapBuilder().build()).toBe(DomainMap.EMPTY);
  });

  it('lists what changed between two maps', () => {
    const before = DomainMap.from([
      ['keep.example', on()],
      ['gone.example', on()],
      ['flip.example', on()],
    ]);
    const after = before
      .without('gone.example')
      .with('flip.example', off())
      .with('new.example', on('gold'));
    const changes = after.changesSince(before);
    expect(changes.sort((x, y) => x.domain.localeCompare(y.domain))).toEqual([
      { domain: 'flip.example', previous: on(), next: off() },
      { domain: 'gone.example', previous: on(), next: undefined },
      { domain: 'new.example', previous: undefined, next: on('gold') },
    ]);
    expect(before.changesSince(before)).toEqual([]);
  });

  it('applies an event to 100,000 domains without copying them', () => {
    const big = DomainMap.from(
      Array.from({ length: 100_000 }, (_, i) => [`tenant${i}.example.net`, on()] as const),
    );
    const started = performance.now();
    let map = big;
    for (let i = 0; i < 10_000; i++) map = map.with(`new${i}.example.net`, on());
    const perEventMs = (performance.now() - started) / 10_000;
    expect(map.size).toBe(110_000);
    expect(big.size).toBe(100_000);
    // A copy of 100,000 entries takes milliseconds; a path copy takes microseconds.
    expect(perEventMs).toBeLessThan(0.1);
  });
});
