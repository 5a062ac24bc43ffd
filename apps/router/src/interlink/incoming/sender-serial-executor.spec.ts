import { describe, expect, it } from 'vitest';
import { SenderSerialExecutor } from './sender-serial-executor';

interface Job {
  sender: string;
  n: number;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SenderSerialExecutor', () => {
  it('runs one job at a time per sender, in order, and senders concurrently', async () => {
    const running: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const executor = new SenderSerialExecutor<Job>(
      (job) => {
        running.push(`${job.sender}${job.n}`);
        const gate = deferred();
        gates.set(`${job.sender}${job.n}`, gate);
        return gate.promise;
      },
      () => undefined,
    );
    executor.submit('a', { sender: 'a', n: 1 });
    executor.submit('a', { sender: 'a', n: 2 });
    executor.submit('b', { sender: 'b', n: 1 });
    expect(running).toEqual(['a1', 'b1']);
    expect([executor.size, executor.activeSenders]).toEqual([3, 2]);
    gates.get('b1')!.resolve();
    await tick();
    expect(running).toEqual(['a1', 'b1']);
    gates.get('a1')!.resolve();
    await tick();
    expect(running).toEqual(['a1', 'b1', 'a2']);
    gates.get('a2')!.resolve();
    await executor.whenIdle();
    expect([executor.size, executor.activeSenders]).toEqual([0, 0]);
  });

  it('goes on with a sender after a failed or throwing job, reporting each error', async () => {
    const order: number[] = [];
    const errors: string[] = [];
    const executor = new SenderSerialExecutor<Job>(
      (job) => {
        order.push(job.n);
        if (job.n === 1) throw new Error('sync failure');
        if (job.n === 2) return Promise.reject(new Error('async failure'));
        return Promise.resolve();
      },
      (_job, error) => {
        if (error) errors.push((error as Error).message);
      },
    );
    for (const n of [1, 2, 3]) executor.submit('a', { sender: 'a', n });
    await executor.whenIdle();
    expect(order).toEqual([1, 2, 3]);
    expect(errors).toEqual(['sync failure', 'async failure']);
  });

  it('keeps 10 000 jobs of 50 senders in order per sender', async () => {
    const seen = new Map<string, number[]>();
    const executor = new SenderSerialExecutor<Job>(
      async (job) => {
        if (job.n % 7 === 0) await tick();
        seen.set(job.sender, [...(seen.get(job.sender) ?? []), job.n]);
      },
      () => undefined,
    );
    for (let n = 0; n < 10_000; n++) executor.submit(`s${n % 50}`, { sender: `s${n % 50}`, n });
    await executor.whenIdle();
    for (const [sender, ns] of seen) {
      expect(ns, sender).toEqual([...ns].sort((x, y) => x - y));
      expect(ns.length).toBe(200);
    }
  });

  it('is idle at once with nothing submitted', async () => {
    const executor = new SenderSerialExecutor<Job>(
      async () => undefined,
      () => undefined,
    );
    await expect(executor.whenIdle()).resolves.toBeUndefined();
  });
});
