import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERLINK_OPTIONS, type AckOptions } from '../interlink-options';
import type { QueuedFrame } from './frame-queue';
import { framesCovered, UnackedWindow } from './unacked-window';

const options: AckOptions = {
  ...DEFAULT_INTERLINK_OPTIONS.acks,
  maxUnackedFrames: 4,
  maxUnackedBytes: 100,
  timeoutMs: 1_000,
  firstAckTimeoutMs: 500,
};

function frame(n: number, size = 10): QueuedFrame {
  return { bytes: Buffer.alloc(size), senderKey: `s${n}`, queuedAt: 0 };
}

function windowWith(frames: QueuedFrame[], now = 0): UnackedWindow {
  const window = new UnackedWindow(options);
  window.opened(now);
  for (const each of frames) window.written(each, now);
  return window;
}

describe('UnackedWindow', () => {
  it('drops what a cumulative ack covers, oldest first', () => {
    const frames = [0, 1, 2].map((n) => frame(n));
    const window = windowWith(frames);
    expect(window.ack(0, 1)).toBe(0);
    expect(window.peerAcks).toBe('yes');
    expect(window.ack(2, 2)).toBe(2);
    expect(window.ack(2, 3)).toBe(0);
    expect(window.takeAll()).toEqual([frames[2]]);
  });

  it('counts modulo 2^32, across the wrap', () => {
    expect(framesCovered(0, 5)).toBe(5);
    expect(framesCovered(0xffff_ffff, 2)).toBe(3);
    expect(framesCovered(0xffff_fff0, 0xffff_ffff)).toBe(15);
    expect(framesCovered(7, 7)).toBe(0);
  });

  it('refuses an ack of more than was written, with a reason', () => {
    const window = windowWith([frame(0)]);
    expect(window.ack(2, 1)).toBe('the peer acknowledged 2 frames, only 1 were sent');
    expect(window.length).toBe(1);
  });

  it('is full at either bound', () => {
    const byCount = windowWith([0, 1, 2].map((n) => frame(n)));
    expect(byCount.full).toBe(false);
    byCount.written(frame(3), 0);
    expect(byCount.full).toBe(true);
    expect(windowWith([frame(0, 100)]).full).toBe(true);
    expect(windowWith([frame(0, 99)]).full).toBe(false);
  });

  it('takes a peer that never acknowledged for one that cannot, and forgets its frames', () => {
    const window = windowWith([frame(0), frame(1)], 0);
    expect(window.check(499)).toBe('ok');
    expect(window.check(500)).toBe('peer-does-not-ack');
    expect(window.peerAcks).toBe('no');
    expect(window.length).toBe(0);
    window.written(frame(2), 1_001);
    expect(window.length).toBe(0);
    expect(window.full).toBe(false);
    expect(window.ack(5, 1_002)).toBe(0);
  });

  it('reports a stall when held frames see no ack progress for timeoutMs', () => {
    const window = windowWith([], 0);
    expect(window.ack(0, 10)).toBe(0);
    window.written(frame(0), 100);
    window.written(frame(1), 500);
    expect(window.check(1_099)).toBe('ok');
    expect(window.check(1_100)).toBe('stalled');
    // Progress restarts the clock; an empty window never stalls.
    expect(window.ack(1, 1_100)).toBe(1);
    expect(window.check(2_099)).toBe('ok');
    expect(window.ack(2, 2_099)).toBe(1);
    expect(window.check(10_000)).toBe('ok');
  });

  it('starts afresh on a new link', () => {
    const window = windowWith([frame(0)], 0);
    expect(window.ack(1, 1)).toBe(1);
    window.opened(50);
    expect(window.peerAcks).toBe('unknown');
    window.written(frame(1), 50);
    expect(window.ack(1, 60)).toBe(1);
  });
});
