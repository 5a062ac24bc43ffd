import type { PublishedDomainEvent } from '#redis-keys';
import { describe, expect, it } from 'vitest';
import {
  decodeHashValue,
  DomainLog,
  domainState,
  MAX_HELD_EVENTS,
  parseDomainNotice,
} from './domain-log';
import { DomainMap } from './domain-map';

const upsert = (seq: number, domain = `d${seq}.example`, enabled = true): PublishedDomainEvent => ({
  seq,
  op: 'upsert',
  domain,
  hostType: 'default',
  enabled,
});
const remove = (seq: number, domain: string): PublishedDomainEvent => ({
  seq,
  op: 'delete',
  domain,
});
const domainsOf = (log: DomainLog) => [...log.domains.keys()].sort();

describe('parseDomainNotice', () => {
  it('reads what control publishes', () => {
    expect(parseDomainNotice(JSON.stringify(upsert(3)))).toEqual(upsert(3));
    expect(parseDomainNotice('{"seq":4,"op":"delete","domain":"a.example"}')).toEqual(
      remove(4, 'a.example'),
    );
    expect(parseDomainNotice('{"seq":9,"op":"reload"}')).toEqual({ seq: 9, op: 'reload' });
  });

  it.each([
    'not json',
    '7',
    'null',
    '{"op":"reload"}',
    '{"seq":0,"op":"reload"}',
    '{"seq":1.5,"op":"reload"}',
    '{"seq":"2","op":"reload"}',
    '{"seq":2,"op":"rename","domain":"a.example"}',
    '{"seq":2,"op":"delete"}',
    '{"seq":2,"op":"upsert","domain":"a.example","enabled":true}',
    '{"seq":2,"op":"upsert","domain":"a.example","hostType":"a|b","enabled":true}',
    '{"seq":2,"op":"upsert","domain":"a.example","hostType":"x","enabled":"yes"}',
  ])('refuses %s', (raw) => {
    expect(parseDomainNotice(raw)).toBeNull();
  });
});

describe('domain states', () => {
  it('are shared and frozen', () => {
    expect(domainState('gold', true)).toBe(domainState('gold', true));
    expect(decodeHashValue('gold|1')).toBe(domainState('gold', true));
    expect(decodeHashValue('a|b|0')).toEqual({ hostType: 'a|b', enabled: false });
    expect(Object.isFrozen(domainState('gold', false))).toBe(true);
  });
});

describe('DomainLog', () => {
  it('applies events in seq order and ignores those already applied', () => {
    const log = new DomainLog();
    expect(log.receive(upsert(1, 'a.example'))).toBe('none');
    expect(log.receive(upsert(2, 'b.example'))).toBe('none');
    expect(log.receive(upsert(1, 'stale.example'))).toBe('none');
    expect(log.receive(remove(2, 'a.example'))).toBe('none');
    expect(log.receive(remove(3, 'a.example'))).toBe('none');
    expect(log.seq).toBe(3);
    expect(domainsOf(log)).toEqual(['b.example']);
  });

  it('holds an event that comes early and asks for a repair', () => {
    const log = new DomainLog(10);
    expect(log.receive(upsert(12))).toBe('repair');
    expect(log.receive(upsert(13))).toBe('repair');
    expect(log.seq).toBe(10);
    expect(log.heldCount).toBe(2);
    expect(log.highestSeen).toBe(13);
    // The missing one arrives late: everything held after it follows.
    expect(log.receive(upsert(11))).toBe('none');
    expect(log.seq).toBe(13);
    expect(log.heldCount).toBe(0);
    expect(domainsOf(log)).toEqual(['d11.example', 'd12.example', 'd13.example']);
  });

  it('still asks for a repair while a hole remains after applying', () => {
    const log = new DomainLog(0);
    log.receive(upsert(3));
    expect(log.receive(upsert(1))).toBe('repair');
    expect(log.seq).toBe(1);
  });

  it('fills a gap from events read back, in any order and with duplicates', () => {
    const log = new DomainLog(5);
    log.receive(upsert(9));
    const readBack = [upsert(8), upsert(6), upsert(7), upsert(8), upsert(5), upsert(4)];
    expect(log.catchUp(readBack, 9)).toBe('done');
    expect(log.seq).toBe(9);
    expect(domainsOf(log)).toEqual(['d6.example', 'd7.example', 'd8.example', 'd9.example']);
  });

  it('asks for a full reload when the events needed are gone', () => {
    const log = new DomainLog(5);
    // The list starts at 8: 6 and 7 were trimmed away.
    expect(log.catchUp([upsert(8), upsert(9)], 9)).toBe('reload');
    expect(log.seq).toBe(5);
    // A hole in the middle also stops the run.
    const other = new DomainLog(5);
    expect(other.catchUp([upsert(6), upsert(8)], 8)).toBe('reload');
    expect(other.seq).toBe(6);
  });

  it('reloads on a reload notice newer than its seq only', () => {
    const log = new DomainLog(20);
    expect(log.receive({ seq: 20, op: 'reload' })).toBe('none');
    expect(log.receive({ seq: 21, op: 'reload' })).toBe('reload');
  });

  it('replaces its set with a full load, then applies the held events after it', () => {
    const log = new DomainLog(3, DomainMap.EMPTY.with('old.example', domainState('default', true)));
    log.receive(upsert(9));
    log.receive(upsert(5));
    const loaded = DomainMap.EMPTY.with('loaded.example', domainState('default', true));
    expect(log.replace(8, loaded)).toBe(true);
    expect(log.seq).toBe(9);
    expect(domainsOf(log)).toEqual(['d9.example', 'loaded.example']);
    expect(log.heldCount).toBe(0);
  });

  it('never goes backwards on a full load older than what it applied', () => {
    const log = new DomainLog(3);
    log.receive(upsert(4));
    expect(log.replace(2, DomainMap.EMPTY)).toBe(false);
    expect(log.seq).toBe(4);
    expect(domainsOf(log)).toEqual(['d4.example']);
  });

  it('gives up holding events after a long stall and asks for a reload', () => {
    const log = new DomainLog(0);
    let action = 'none';
    for (let seq = 2; seq <= MAX_HELD_EVENTS + 2; seq++) action = log.receive(upsert(seq));
    expect(action).toBe('reload');
    expect(log.heldCount).toBe(0);
  });

  it('applies 10,000 events quickly on a set of 100,000', () => {
    const base = DomainMap.from(
      Array.from({ length: 100_000 }, (_, i) => [`t${i}.example`, domainState('default', true)]),
    );
    const log = new DomainLog(100_000, base);
    const started = performance.now();
    for (let i = 1; i <= 10_000; i++) log.receive(upsert(100_000 + i));
    const elapsed = performance.now() - started;
    expect(log.seq).toBe(110_000);
    expect(log.domains.size).toBe(110_000);
    expect(elapsed).toBeLessThan(500);
  });
});
