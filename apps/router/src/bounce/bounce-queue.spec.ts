import { describe, expect, it } from 'vitest';
import { bounceBudgetMs, BounceQueue, type BouncePolicy } from './bounce-queue';

const policy: BouncePolicy = { enabled: true, resendAfterMs: 200, maxRetries: 4, maxQueued: 5 };

describe('BounceQueue', () => {
  it('keeps items of a pair in arrival order and hands them back together', () => {
    const queue = new BounceQueue<string>(policy);
    expect(queue.add('a|b', 's1', 0)).toBe('queued');
    expect(queue.add('a|c', 'x1', 5)).toBe('queued');
    expect(queue.add('a|b', 's2', 10)).toBe('queued');
    expect(queue.size).toBe(3);
    expect(queue.take('a|b')).toEqual(['s1', 's2']);
    expect(queue.size).toBe(1);
    expect(queue.hasPair('a|b')).toBe(false);
  });

  it('finds pairs by recipient until they are taken', () => {
    const queue = new BounceQueue<string>(policy);
    queue.add('a|b', 's1', 0, policy, 'b');
    queue.add('c|b', 's2', 0, policy, 'b');
    queue.add('a|d', 's3', 0, policy, 'd');
    queue.add('a|b', 's4', 1, policy, 'ignored for an existing pair');
    expect(queue.keysFor('b')).toEqual(['a|b', 'c|b']);
    expect(queue.keysFor('ignored for an existing pair')).toEqual([]);
    expect(queue.dueAtOf('a|b')).toBe(200);
    queue.take('a|b');
    expect(queue.keysFor('b')).toEqual(['c|b']);
    queue.take('c|b');
    expect(queue.keysFor('b')).toEqual([]);
    expect(queue.dueAtOf('c|b')).toBeNull();
  });

  it('retries with exponential backoff from resendAfterMs, maxRetries times', () => {
    const queue = new BounceQueue<string>(policy);
    queue.add('p', 's', 0);
    expect(queue.due(199)).toEqual([]);
    expect(queue.due(200)).toEqual(['p']);
    const retries: number[] = [];
    let now = 200;
    for (;;) {
      retries.push(now);
      const exhausted = queue.retryFailed('p', now);
      if (exhausted) {
        expect(exhausted).toEqual(['s']);
        break;
      }
      now = queue.nextDueAt()!;
    }
    expect(retries).toEqual([200, 600, 1400, 3000]);
    expect(bounceBudgetMs(policy)).toBe(3000);
    expect(queue.size).toBe(0);
  });

  it('refuses past maxQueued, and when disabled or allowed no retry', () => {
    const queue = new BounceQueue<number>(policy);
    for (let i = 0; i < 5; i++) expect(queue.add(`p${i}`, i, 0)).toBe('queued');
    expect(queue.add('p9', 9, 0)).toBe('full');
    expect(new BounceQueue<number>({ ...policy, enabled: false }).add('p', 1, 0)).toBe('disabled');
    expect(new BounceQueue<number>({ ...policy, maxRetries: 0 }).add('p', 1, 0)).toBe('disabled');
  });

  it('does not list a pair again while its retry runs', () => {
    const queue = new BounceQueue<number>(policy);
    queue.add('p', 1, 0);
    queue.beginRetry('p');
    expect(queue.due(10_000)).toEqual([]);
    expect(queue.nextDueAt()).toBeNull();
    expect(queue.retryFailed('p', 1000)).toBeNull();
    expect(queue.nextDueAt()).toBe(1400);
  });

  it('retries a pair under the policy it was queued with (a host type override)', () => {
    const queue = new BounceQueue<number>(policy);
    queue.add('strict', 1, 0, { enabled: true, resendAfterMs: 10, maxRetries: 1 });
    queue.add('default', 2, 0);
    expect(queue.nextDueAt()).toBe(10);
    expect(queue.retryFailed('strict', 10)).toEqual([1]);
    expect(queue.retryFailed('default', 200)).toBeNull();
    expect(new BounceQueue<number>(policy).add('off', 3, 0, { ...policy, enabled: false })).toBe(
      'disabled',
    );
  });

  it('lists due pairs oldest first and takes a new policy for later scheduling', () => {
    const queue = new BounceQueue<number>(policy);
    queue.add('late', 1, 50);
    queue.add('early', 2, 0);
    expect(queue.due(1000)).toEqual(['early', 'late']);
    queue.setPolicy({ ...policy, resendAfterMs: 10 });
    queue.add('new', 3, 1000);
    expect(queue.nextDueAt()).toBe(200);
    expect(queue.due(1010)).toContain('new');
  });
});
