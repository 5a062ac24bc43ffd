// How long a request waits for PostgreSQL (DATABASE_POOL_WAIT_MS): a refused connection is a
// 503 at once, whatever the wait; a PostgreSQL that takes connections but never answers is a
// 503 once the wait is over; and requests succeed again when it is back.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';

const WAIT_MS = 3000;

type Mode = 'open' | 'refuse' | 'silent';

/** A proxy to PostgreSQL that forwards, refuses (closes at once), or accepts and stays mute. */
interface PgProxy {
  readonly port: number;
  /** Drops every open connection, then handles new ones in `mode`. */
  set(mode: Mode): void;
  close(): Promise<void>;
}

async function startPgProxy(): Promise<PgProxy> {
  let mode: Mode = 'open';
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'refuse') client.destroy();
    if (mode !== 'open') return;
    const upstream = connect(5432, '127.0.0.1');
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    set: (next) => {
      mode = next;
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}

let proxy: PgProxy;
let control: ControlHarness;

beforeAll(async () => {
  proxy = await startPgProxy();
  control = await startControl('database_wait', {
    pgPort: proxy.port,
    env: { DATABASE_POOL_WAIT_MS: String(WAIT_MS) },
  });
  expect((await control.http.put('/v1/config').set(admin).send(BASE_CONFIG)).status).toBe(200);
});

afterAll(async () => {
  await control?.close();
  await proxy?.close();
});

/** Lets the pool see its dropped connections before the next request. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

async function timedRead(): Promise<{ status: number; message: unknown; ms: number }> {
  const started = Date.now();
  const response = await control.http.get('/v1/config').set(admin);
  return { status: response.status, message: response.body.message, ms: Date.now() - started };
}

describe('waiting for PostgreSQL', () => {
  it('answers 503 at once when PostgreSQL refuses connections, without waiting the pool out', async () => {
    proxy.set('refuse');
    await settle();
    const read = await timedRead();
    expect(read.status).toBe(503);
    expect(read.message).toMatch(/database is unavailable/);
    expect(read.ms).toBeLessThan(WAIT_MS / 2);
  });

  it('answers 503 after DATABASE_POOL_WAIT_MS when PostgreSQL takes connections but never answers', async () => {
    proxy.set('silent');
    await settle();
    const read = await timedRead();
    expect(read.status).toBe(503);
    expect(read.message).toMatch(/database is unavailable/);
    expect(read.ms).toBeGreaterThanOrEqual(WAIT_MS - 50);
    expect(read.ms).toBeLessThan(WAIT_MS + 3000);
  });

  it('serves again as soon as PostgreSQL is back', async () => {
    proxy.set('open');
    const read = await timedRead();
    expect(read.status).toBe(200);
    expect(read.ms).toBeLessThan(WAIT_MS);
  });
});
