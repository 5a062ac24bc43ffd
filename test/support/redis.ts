// Each integration test file gets a Redis of its own: a private redis-server on a free
// loopback port, stopped when the file is done. Database numbers would isolate keys but not
// pub/sub (channels are server-wide), and Meridian's channel names are fixed by contract, so
// tests running in parallel would hear each other's notices.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';

export interface TestRedis {
  /** Database number in `url` (always 0 on the private server). */
  readonly db: number;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** A client on the test's Redis (for assertions). */
  readonly client: Redis;
  /** Stop the server (simulates an outage); `restart()` brings it back empty on the same port. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  release(): Promise<void>;
}

const REDIS_SERVER = process.env.TEST_REDIS_SERVER ?? 'redis-server';
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function leaseRedisDatabase(): Promise<TestRedis> {
  const host = '127.0.0.1';
  const port = await freePort();
  let server = await startServer(port);
  const url = `redis://${host}:${port}/0`;
  const client = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true });
  client.on('error', () => undefined); // expected while a test stops the server
  await client.connect();
  const stop = async () => {
    await stopServer(server);
  };
  return {
    db: 0,
    host,
    port,
    url,
    client,
    stop,
    restart: async () => {
      await stopServer(server);
      server = await startServer(port);
    },
    release: async () => {
      client.disconnect();
      await stop();
    },
  };
}

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: 'ignore' },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
