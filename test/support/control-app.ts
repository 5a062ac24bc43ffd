// A control plane on a fresh PostgreSQL database and its own Redis database, for e2e tests.
import type { INestApplication } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import { createControlApp } from '../../apps/control/src/bootstrap';
import { parseControlEnv, type ControlEnv } from '../../apps/control/src/env/control-env';
import { ConfigPublisher } from '../../apps/control/src/publishing/config-publisher';
import { createTestDatabase, type TestDatabase } from './database';
import { leaseRedisDatabase, type TestRedis } from './redis';

export const ADMIN_TOKEN = 'admin-token-0123456789';
export const READONLY_TOKEN = 'audit-token-0123456789';
export const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
export const readOnly = { Authorization: `Bearer ${READONLY_TOKEN}` };

export interface ControlHarness {
  readonly app: INestApplication;
  readonly env: ControlEnv;
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  readonly http: ReturnType<typeof request>;
  readonly publisher: ConfigPublisher;
  close(): Promise<void>;
}

export interface ControlOptions {
  /** Extra environment. */
  readonly env?: Record<string, string>;
  /** Reach PostgreSQL / Redis through these local ports (test proxies) instead of directly. */
  readonly pgPort?: number;
  readonly redisPort?: number;
  /** Use this Redis (released by close()) instead of starting one. */
  readonly redis?: TestRedis;
  /** Log through the app's pino logger into this stream instead of staying quiet. */
  readonly logStream?: DestinationStream;
}

export async function startControl(
  label: string,
  options: ControlOptions = {},
): Promise<ControlHarness> {
  const database = await createTestDatabase(label);
  const redis = options.redis ?? (await leaseRedisDatabase());
  const env = parseControlEnv({
    DATABASE_URL: withPort(database.url, options.pgPort),
    REDIS_URL: withPort(redis.url, options.redisPort),
    MERIDIAN_ADMIN_TOKENS: `admin:${ADMIN_TOKEN},audit:${READONLY_TOKEN}:ro`,
    OUTBOX_INTERVAL_MS: '200',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...options.env,
  });
  const app = await createControlApp(env, {
    quiet: options.logStream === undefined,
    logStream: options.logStream,
  });
  await app.init();
  return {
    app,
    env,
    database,
    redis,
    http: request(app.getHttpServer()),
    publisher: app.get(ConfigPublisher),
    close: async () => {
      await app.close();
      await redis.release();
      await database.drop();
    },
  };
}

/** The smallest valid first revision plus two datacenters. */
export const BASE_CONFIG = {
  globalHost: 'example.com',
  datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc2.example.com' }],
};

function withPort(url: string, port: number | undefined): string {
  if (port === undefined) return url;
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}
