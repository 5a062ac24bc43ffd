import { describe, expect, it } from 'vitest';
import { InterlinkSendError } from '../interlink-errors';
import { FrameQueue, type QueuedFrame } from './frame-queue';

const frame = (size: number, senderKey = 's'): QueuedFrame => ({
  bytes: Buffer.alloc(size),
  senderKey,
  queuedAt: 0,
});

/** Which of the promises have settled, after the microtasks ran. */
async function settled(promises: Promise<void>[]): Promise<string[]> {
  const states = promises.map(() => 'pending');
  promises.forEach((promise, i) =>
    promise.then(
      () => (states[i] = 'resolved'),
      (err: InterlinkSendError) => (states[i] = err.reason),
    ),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return states;
}

describe('FrameQueue', () => {
  it('admits frames at once while there is room', async () => {
    const queue = new FrameQueue({ maxFrames: 3, maxBytes: 100 });
    const sends = [queue.offer(frame(10), 1), queue.offer(frame(10), 1)];
    expect(await settled(sends)).toEqual(['resolved', 'resolved']);
    expect([queue.length, queue.bytes, queue.waiting]).toEqual([2, 20, 0]);
  });

  it('makes sends wait when the frame bound is reached, and admits them in order', async () => {
    const queue = new FrameQueue({ maxFrames: 2, maxBytes: 1000 });
    const sends = [1, 2, 3, 4].map((n) => queue.offer(frame(n, `s${n}`), 1));
    expect(await settled(sends)).toEqual(['resolved', 'resolved', 'pending', 'pending']);
    expect(queue.shift()?.senderKey).toBe('s1');
    expect(await settled(sends)).toEqual(['resolved', 'resolved', 'resolved', 'pending']);
    expect([queue.length, queue.waiting]).toEqual([2, 1]);
    expect([queue.shift(), queue.shift(), queue.shift()].map((f) => f?.senderKey)).toEqual([
      's2',
      's3',
      's4',
    ]);
    expect(queue.idle).toBe(true);
  });

  it('makes sends wait when the byte bound is reached', async () => {
    const queue = new FrameQueue({ maxFrames: 100, maxBytes: 25 });
    const sends = [queue.offer(frame(10), 1), queue.offer(frame(10), 1), queue.offer(frame(10), 1)];
    expect(await settled(sends)).toEqual(['resolved', 'resolved', 'pending']);
    queue.shift();
    expect(await settled(sends)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(queue.bytes).toBe(20);
  });

  it('admits a frame larger than the byte bound into an empty queue', async () => {
    const queue = new FrameQueue({ maxFrames: 10, maxBytes: 5 });
    expect(await settled([queue.offer(frame(50), 1)])).toEqual(['resolved']);
  });

  it('keeps a later small frame behind an earlier waiting one (no overtaking)', async () => {
    const queue = new FrameQueue({ maxFrames: 10, maxBytes: 30 });
    const sends = [
      queue.offer(frame(20, 'a'), 1),
      queue.offer(frame(20, 'b'), 1),
      queue.offer(frame(1, 'c'), 1),
    ];
    expect(await settled(sends)).toEqual(['resolved', 'pending', 'pending']);
    expect(queue.waiting).toBe(2);
  });

  it('fails waiting sends whose deadline passed, with reason timeout', async () => {
    const queue = new FrameQueue({ maxFrames: 1, maxBytes: 100 });
    const sends = [queue.offer(frame(1), 0), queue.offer(frame(1), 10), queue.offer(frame(1), 20)];
    expect(queue.expire(15)).toBe(1);
    expect(await settled(sends)).toEqual(['resolved', 'timeout', 'pending']);
    expect(queue.waiting).toBe(1);
  });

  it('rejects every waiting send, and hands over the admitted frames', async () => {
    const queue = new FrameQueue({ maxFrames: 1, maxBytes: 100 });
    const sends = [queue.offer(frame(1, 'a'), 1), queue.offer(frame(1, 'b'), 1)];
    queue.rejectWaiters(new InterlinkSendError('closed', 'closing'));
    expect(await settled(sends)).toEqual(['resolved', 'closed']);
    expect(queue.takeAll().map((f) => f.senderKey)).toEqual(['a']);
    expect([queue.length, queue.bytes, queue.idle]).toEqual([0, 0, true]);
  });
});
