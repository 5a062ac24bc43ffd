import { describe, expect, it } from 'vitest';
import { defaultConfig } from '#config';
import type { RouterSnapshot } from '../config-sync';
import { isolationForbids } from './host-isolation';

function snapshot(): RouterSnapshot {
  const config = defaultConfig('example.com');
  config.hostTypes = [
    { name: 'default', isolated: false },
    { name: 'sealed', isolated: true },
  ];
  const domains = new Map([
    ['a.sealed.net', { hostType: 'sealed', enabled: true }],
    ['b.sealed.net', { hostType: 'sealed', enabled: true }],
    ['open.net', { hostType: 'default', enabled: true }],
  ]);
  return { revision: 1, hash: 'h', config, domainSeq: 3, domains };
}

describe('isolationForbids', () => {
  const s = snapshot();

  it('lets domains of one isolated host type talk to each other', () => {
    expect(isolationForbids('a.sealed.net', 'a.sealed.net', s)).toBe(false);
    expect(isolationForbids('a.sealed.net', 'b.sealed.net', s)).toBe(false);
  });

  it('stops stanzas between an isolated host type and any other domain, both ways', () => {
    expect(isolationForbids('a.sealed.net', 'example.com', s)).toBe(true);
    expect(isolationForbids('example.com', 'a.sealed.net', s)).toBe(true);
    expect(isolationForbids('a.sealed.net', 'open.net', s)).toBe(true);
    expect(isolationForbids('a.sealed.net', 'component.example.com', s)).toBe(true);
  });

  it('leaves other host types alone', () => {
    expect(isolationForbids('example.com', 'open.net', s)).toBe(false);
    expect(isolationForbids('open.net', 'component.example.com', s)).toBe(false);
  });
});
