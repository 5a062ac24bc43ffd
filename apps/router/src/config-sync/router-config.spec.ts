import { defaultConfig } from '#config';
import { describe, expect, it } from 'vitest';
import { domainState } from './domain-log';
import { DomainMap } from './domain-map';
import { RouterConfig, type RouterSnapshot } from './router-config';

const revision = (n: number, messageTtl = 4) => ({
  revision: n,
  hash: `h${n}`,
  config: { ...defaultConfig('example.com'), messageTtl },
});
const enabled = domainState('default', true);
const disabled = domainState('default', false);

describe('RouterConfig', () => {
  it('has no snapshot before the first revision', () => {
    const config = new RouterConfig();
    expect(config.applied).toBe(false);
    expect(() => config.snapshot).toThrow(/no configuration revision applied yet/);
    expect(config.isServedDomain('example.com')).toBe(false);
  });

  it('swaps the whole snapshot and tells listeners the next and previous ones', () => {
    const config = new RouterConfig();
    const seen: [RouterSnapshot, RouterSnapshot | null][] = [];
    config.onChange((next, previous) => seen.push([next, previous]));
    const first = config.installRevision(revision(1));
    const second = config.installRevision(revision(2, 7));
    expect(seen).toEqual([
      [first, null],
      [second, first],
    ]);
    expect(config.snapshot).toBe(second);
    expect(first.config.messageTtl).toBe(4);
    expect(second).toMatchObject({ revision: 2, hash: 'h2', domainSeq: 0 });
  });

  it('freezes the snapshot and its configuration', () => {
    const config = new RouterConfig();
    const snapshot = config.installRevision(revision(1));
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.config.bounce)).toBe(true);
    expect(() => {
      (snapshot.config as { messageTtl: number }).messageTtl = 9;
    }).toThrow(TypeError);
  });

  it('keeps domains loaded before the first revision and serves globalHost and enabled domains', () => {
    const config = new RouterConfig();
    config.installDomains(
      5,
      DomainMap.from([
        ['on.example.net', enabled],
        ['off.example.net', disabled],
      ]),
    );
    expect(config.domainSeq).toBe(5);
    config.installRevision(revision(1));
    expect(config.snapshot.domainSeq).toBe(5);
    expect(config.isServedDomain('example.com')).toBe(true);
    expect(config.isServedDomain('On.Example.NET')).toBe(true);
    expect(config.isServedDomain('off.example.net')).toBe(false);
    expect(config.isServedDomain('unknown.example.net')).toBe(false);
  });

  it('gives a domain swap a new snapshot and leaves the old one as it was', () => {
    const config = new RouterConfig();
    const before = config.installRevision(revision(3));
    config.installDomains(1, DomainMap.EMPTY.with('a.example.net', enabled));
    const after = config.snapshot;
    expect(after).not.toBe(before);
    expect(after).toMatchObject({ revision: 3, domainSeq: 1 });
    expect(after.config).toBe(before.config);
    expect(before.domains.size).toBe(0);
    expect(after.domains.get('a.example.net')).toBe(enabled);
  });

  it('lists domain changes to domain listeners', () => {
    const config = new RouterConfig();
    const start = DomainMap.EMPTY.with('a.example.net', enabled).with('b.example.net', enabled);
    config.installDomains(2, start);
    config.installRevision(revision(1));
    const seen: unknown[] = [];
    config.onDomainChange((changes, snapshot) => seen.push({ changes, seq: snapshot.domainSeq }));
    config.installRevision(revision(2));
    config.installDomains(3, start.with('a.example.net', disabled).without('b.example.net'));
    expect(seen).toEqual([
      {
        seq: 3,
        changes: expect.arrayContaining([
          { domain: 'a.example.net', previous: enabled, next: disabled },
          { domain: 'b.example.net', previous: enabled, next: undefined },
        ]),
      },
    ]);
  });

  it('does not let a throwing listener break the swap or the other listeners', () => {
    const config = new RouterConfig();
    const calls: string[] = [];
    config.onChange(() => {
      throw new Error('boom');
    });
    config.onChange((next) => calls.push(`second saw ${next.revision}`));
    config.installRevision(revision(1));
    config.installRevision(revision(2));
    expect(config.snapshot.revision).toBe(2);
    expect(calls).toEqual(['second saw 1', 'second saw 2']);
  });

  it('stops calling a listener once removed', () => {
    const config = new RouterConfig();
    let calls = 0;
    const off = config.onChange(() => calls++);
    config.installRevision(revision(1));
    off();
    config.installRevision(revision(2));
    expect(calls).toBe(1);
  });
});
