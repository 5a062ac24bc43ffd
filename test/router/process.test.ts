// The router as an operator runs it (`node dist/apps/router/src/main.js`): it refuses to start
// with a clear message and a non-zero exit, and on SIGTERM it drains and removes its entries.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { baseConfig, freePort, freePorts, publishRevision, until } from '../support/router-cluster';

const MAIN = 'dist/apps/router/src/main.js';
let redis: TestRedis;

beforeAll(async () => {
  expect(existsSync(MAIN), 'run `npm run build` before the tests').toBe(true);
  redis = await leaseRedisDatabase();
  await publishRevision(redis, 1, baseConfig(['dc1.example.com']));
});
afterAll(async () => {
  await redis?.release();
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  httpPort: number;
}

async function spawnRouter(overrides: Record<string, string> = {}): Promise<Started> {
  const [httpPort, c2sPort, componentPort, interlinkPort] = await freePorts(4);
  const env = {
    PATH: process.env.PATH ?? '',
    MERIDIAN_LOCAL_HOST: 'dc1.example.com',
    MERIDIAN_NODE: 'proc1',
    REDIS_URL: redis.url,
    HTTP_PORT: String(httpPort),
    C2S_PORT: String(c2sPort),
    COMPONENT_PORT: String(componentPort),
    INTERLINK_LISTEN: `127.0.0.1:${interlinkPort}`,
    CONFIG_BOOT_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'info',
    ...overrides,
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited, httpPort };
}

describe('router process', () => {
  it('starts, registers itself, and on SIGTERM drains, cleans up and exits 0', async () => {
    const router = await spawnRouter();
    try {
      await until(
        async () =>
          (await fetch(`http://127.0.0.1:${router.httpPort}/health/ready`).catch(() => null))
            ?.status === 200,
        15_000,
        'router ready',
      );
      expect(await redis.client.sismember('dc1.example.com#{nodes}', 'proc1')).toBe(1);
      expect(await redis.client.exists('meridian:router:dc1.example.com:proc1')).toBe(1);
      router.child.kill('SIGTERM');
      expect(await router.exited).toBe(0);
      expect(await redis.client.sismember('dc1.example.com#{nodes}', 'proc1')).toBe(0);
      expect(await redis.client.exists('meridian:router:dc1.example.com:proc1')).toBe(0);
      expect(await redis.client.exists('dc1.example.com#proc1#{heartbeat}')).toBe(0);
    } finally {
      router.child.kill('SIGKILL');
    }
  });

  it('refuses a datacenter that is not in the revision', async () => {
    const router = await spawnRouter({ MERIDIAN_LOCAL_HOST: 'dc9.example.com' });
    expect(await router.exited).toBe(1);
    expect(router.output()).toMatch(/meridian router: cannot start: .*dc9\.example\.com/);
  });

  it('refuses a bad environment, listing every problem', async () => {
    const router = await spawnRouter({ C2S_PORT: 'abc', MERIDIAN_NODE: 'bad#node' });
    expect(await router.exited).toBe(1);
    expect(router.output()).toMatch(/C2S_PORT/);
    expect(router.output()).toMatch(/MERIDIAN_NODE/);
  });

  it('refuses an unreachable Redis after a bounded wait', async () => {
    const started = Date.now();
    const router = await spawnRouter({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      REDIS_BOOT_TIMEOUT_MS: '500',
    });
    expect(await router.exited).toBe(1);
    expect(router.output()).toMatch(/REDIS_URL: no answer from Redis/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
