// Failed bearer tokens are throttled per client address: after AUTH_FAILURE_LIMIT failures in
// AUTH_FAILURE_WINDOW_S the address gets 429 with Retry-After, whatever token it sends, until
// the window ends; other addresses are not affected. Clients here connect from distinct
// loopback addresses (127.0.0.0/8 all reach a server bound to 127.0.0.1 on Linux).
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  BASE_CONFIG,
  READONLY_TOKEN,
  startControl,
  type ControlHarness,
} from '../support/control-app';

const LIMIT = 5;
const WINDOW_S = 2;
const WRONG = 'wrong-token-0123456789';

const logs: string[] = [];
let control: ControlHarness;
let port: number;

beforeAll(async () => {
  control = await startControl('auth_throttle', {
    env: {
      AUTH_FAILURE_LIMIT: String(LIMIT),
      AUTH_FAILURE_WINDOW_S: String(WINDOW_S),
      LOG_LEVEL: 'warn',
    },
    logStream: { write: (line: string) => void logs.push(line) },
  });
  await control.app.listen(0, '127.0.0.1');
  port = (control.app.getHttpServer().address() as AddressInfo).port;
  expect((await call('127.0.0.1', 'PUT', '/v1/config', ADMIN_TOKEN, BASE_CONFIG)).status).toBe(200);
});

afterAll(async () => {
  await control?.close();
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { statusCode?: number; error?: string; message?: string };
}

/** One request from `from` (a loopback address) with `token` as bearer, if any. */
function call(
  from: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        method,
        path,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            body: text ? JSON.parse(text) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const lockWarnings = (address: string) =>
  logs.filter((line) => line.includes(`${address} locked out`)).length;

async function failTimes(from: string, times: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++)
    statuses.push((await call(from, 'GET', '/v1/config', WRONG)).status);
  return statuses;
}

describe('failed bearer tokens per address', () => {
  it('answers 429 with Retry-After after the limit, to a right token too, until the window ends', async () => {
    const from = '127.0.0.2';
    expect(await failTimes(from, LIMIT)).toEqual(Array(LIMIT).fill(401));

    const locked = await call(from, 'GET', '/v1/config', WRONG);
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(locked.retryAfter)).toBeLessThanOrEqual(WINDOW_S);
    expect(locked.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(
        /^too many failed bearer tokens from this address; retry in \d+ s$/,
      ),
    });
    expect((await call(from, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(429);
    expect((await call(from, 'GET', '/v1/config')).status).toBe(429);
    // Health checks stay open: a load balancer behind a locked address still sees control.
    expect((await call(from, 'GET', '/health')).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, Number(locked.retryAfter) * 1000 + 100));
    expect((await call(from, 'GET', '/v1/config', WRONG)).status).toBe(401);
    expect((await call(from, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(200);
  });

  it('leaves other addresses alone while one is locked', async () => {
    const locked = '127.0.0.3';
    await failTimes(locked, LIMIT);
    expect((await call(locked, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(429);

    const other = '127.0.0.4';
    expect((await call(other, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(200);
    expect((await call(other, 'GET', '/v1/config', WRONG)).status).toBe(401);
    expect((await call(other, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(200);
  });

  it('accepts a right token at once before the lock, without clearing the count', async () => {
    const from = '127.0.0.5';
    expect(await failTimes(from, LIMIT - 1)).toEqual(Array(LIMIT - 1).fill(401));
    expect((await call(from, 'GET', '/v1/config', READONLY_TOKEN)).status).toBe(200);
    expect((await call(from, 'GET', '/v1/config', WRONG)).status).toBe(401);
    expect((await call(from, 'GET', '/v1/config', READONLY_TOKEN)).status).toBe(429);
  });

  it('does not count a read-only token refused on a write (403) as a failed token', async () => {
    const from = '127.0.0.6';
    for (let i = 0; i < LIMIT * 2; i++) {
      expect((await call(from, 'PUT', '/v1/bounce', READONLY_TOKEN, {})).status).toBe(403);
    }
    expect((await call(from, 'GET', '/v1/config', ADMIN_TOKEN)).status).toBe(200);
  });

  it('logs one warning per lock, not one per refused request', async () => {
    const from = '127.0.0.7';
    await failTimes(from, LIMIT * 3);
    expect(lockWarnings(from)).toBe(1);
    expect(lockWarnings('127.0.0.2')).toBe(1);
    const warning = JSON.parse(logs.find((line) => line.includes(`${from} locked out`))!);
    expect(warning).toMatchObject({ level: 40, context: 'auth' });
    expect(warning.msg).toBe(
      `${from} locked out for up to ${WINDOW_S} s after ${LIMIT} failed bearer tokens`,
    );
    expect(logs.join('\n')).not.toContain(WRONG);
  });
});
