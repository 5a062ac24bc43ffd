// Integration tests isolate themselves by Redis database number, never by key prefix
// (the key layout is part of the contract). A lease in database 0 keeps two test files
// running at once from sharing a number.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

const BASE = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const FIRST_DB = 1;
const LEASE_S = 900;

export interface TestRedis {
  readonly db: number;
  readonly url: string;
  /** A client on the leased database (for assertions). */
  readonly client: Redis;
  release(): Promise<void>;
}

export async function leaseRedisDatabase(): Promise<TestRedis> {
  const admin = new Redis(BASE, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await admin.connect();
  const databases = Number(((await admin.config('GET', 'databases')) as string[])[1] ?? 16);
  const owner = randomBytes(8).toString('hex');
  try {
    for (let attempt = 0; attempt < 600; attempt++) {
      for (let db = FIRST_DB; db < databases; db++) {
        const taken = await admin.set(`meridian-test:lease:${db}`, owner, 'EX', LEASE_S, 'NX');
        if (taken !== 'OK') continue;
        const url = `${BASE}/${db}`;
        const client = new Redis(url, { maxRetriesPerRequest: 2 });
        await client.flushdb();
        return {
          db,
          url,
          client,
          release: async () => {
            await client.flushdb().catch(() => undefined);
            client.disconnect();
            const releaser = new Redis(BASE, { maxRetriesPerRequest: 2 });
            if ((await releaser.get(`meridian-test:lease:${db}`)) === owner) {
              await releaser.del(`meridian-test:lease:${db}`);
            }
            releaser.disconnect();
          },
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('no free Redis database for the test after 60 s');
  } finally {
    admin.disconnect();
  }
}
