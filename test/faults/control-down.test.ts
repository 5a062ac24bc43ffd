// Control is not on the data path (docs/operations.md): with real processes (control on its own
// PostgreSQL database, reached through a proxy the test can cut, and two routers in two
// datacenters), chat between the datacenters goes on while control is stopped and PostgreSQL
// is cut; changes made while control cannot reach Redis are pushed when it returns, with no
// one retrying by hand; a revision a router refuses never takes it down. PostgreSQL failing
// under a running control (503, then recovery by itself) is test/control/publishing.test.ts.
// One line of figures is printed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Element } from 'ltx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { freePort, until } from '../support/router-cluster';
import { ROUTER_MAIN, startRouterProcess, type RouterProcess } from '../support/router-process';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { JWT_SECRET, XmppTestClient } from '../support/xmpp-client';

const CONTROL_MAIN = 'dist/apps/control/src/main.js';
const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const TOKEN = 'control-down-admin-0123456789';
const TICK_MS = 100;
/** How long the routers are watched while control is away. */
const OUTAGE_MS = 6_000;

interface ControlProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

interface RouterRow {
  localHost: string;
  node: string;
  revision: number;
  domainSeq: number;
  status: 'ack' | 'nack';
  rejectedRevision?: number | null;
  error?: string | null;
  synced: boolean;
}

interface Sent {
  readonly id: string;
  readonly at: number;
}

let redis: TestRedis;
let database: TestDatabase;
let redisProxy: TcpProxy;
let pgProxy: TcpProxy;
let control: ControlProcess | null = null;
const routers: RouterProcess[] = [];
const clients: XmppTestClient[] = [];
const sent: Sent[] = [];
const deliveredAt = new Map<string, number>();
const erroredAt = new Map<string, number>();
const figures: Record<string, string | number> = {};

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** Control as an operator runs it, reaching PostgreSQL and Redis through the proxies. */
async function startControl(): Promise<ControlProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CONTROL_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: withPort(database.url, pgProxy.port),
      REDIS_URL: withPort(redis.url, redisProxy.port),
      PORT: String(port),
      MERIDIAN_ADMIN_TOKENS: `admin:${TOKEN}`,
      OUTBOX_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-50_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const started: ControlProcess = { url: `http://127.0.0.1:${port}`, child, output: () => output };
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`control exited: ${output}`);
      const health = await fetch(`${started.url}/health`).catch(() => null);
      return health?.status === 200;
    },
    30_000,
    'control healthy',
  );
  return started;
}

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; etag: string | null }> {
  const response = await fetch(`${control!.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    etag: response.headers.get('etag'),
  };
}

const revisionOf = (etag: string | null) => Number((etag ?? '').replace(/"/g, ''));

async function routerRows(): Promise<RouterRow[] | null> {
  const response = await api('GET', '/v1/routers').catch(() => null);
  if (response?.status !== 200) return null;
  return response.body.routers as RouterRow[];
}

async function login(
  router: RouterProcess,
  username: string,
  domain = 'example.com',
): Promise<XmppTestClient> {
  const client = await XmppTestClient.connect({
    port: router.c2sPort,
    username,
    resource: 'r',
    domain,
  });
  client.xmpp.on('stanza', (stanza: Element) => {
    if (stanza.name !== 'message') return;
    if (stanza.attrs.type === 'error') erroredAt.set(String(stanza.attrs.id), Date.now());
    else deliveredAt.set(stanza.getChildText('body') ?? '', Date.now());
  });
  clients.push(client);
  return client;
}

/** Steady chat between pairs until stopped; sends are not awaited one by one. */
function traffic(pairs: [XmppTestClient, XmppTestClient][], label: string) {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      for (const [from, to] of pairs) {
        const id = `${label}-${n++}`;
        sent.push({ id, at: Date.now() });
        void from.message(to.jid, id, { id }).catch(() => undefined);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - started))),
      );
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Waits until every message of the slice is delivered or errored; returns the counts. */
async function settle(slice: Sent[], what: string) {
  await until(
    () => slice.every((m) => deliveredAt.has(m.id) || erroredAt.has(m.id)),
    20_000,
    `${what}: every message delivered or errored`,
  ).catch(() => undefined);
  const delivered = slice.filter((m) => deliveredAt.has(m.id));
  const errored = slice.filter((m) => erroredAt.has(m.id) && !deliveredAt.has(m.id));
  const lost = slice.filter((m) => !deliveredAt.has(m.id) && !erroredAt.has(m.id));
  return { sent: slice.length, delivered, errored, lost };
}

describe('control down, control cut from Redis, a revision refused', () => {
  let r1: RouterProcess;
  let r2: RouterProcess;
  let alice: XmppTestClient;
  let bob: XmppTestClient;

  beforeAll(async () => {
    expect(existsSync(ROUTER_MAIN) && existsSync(CONTROL_MAIN), 'run `npm run build`').toBe(true);
    redis = await leaseRedisDatabase();
    database = await createTestDatabase('control_down');
    redisProxy = await startTcpProxy(redis.host, redis.port);
    const pg = new URL(database.url);
    pgProxy = await startTcpProxy(pg.hostname, Number(pg.port || 5432));
    control = await startControl();
    const put = await api('PUT', '/v1/config', {
      globalHost: 'example.com',
      datacenters: [{ localHost: DC1 }, { localHost: DC2 }],
      connections: {
        tls: { enabled: false },
        endpointRefreshIntervalS: 1,
        endpointRefreshIntervalCleanStartS: 1,
      },
      auth: { jwt: { algorithm: 'HS256', secret: JWT_SECRET } },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    [r1, r2] = await Promise.all([
      startRouterProcess({ redisUrl: redis.url, localHost: DC1, node: 'n1' }),
      startRouterProcess({ redisUrl: redis.url, localHost: DC2, node: 'n1' }),
    ]);
    routers.push(r1, r2);
    alice = await login(r1, 'alice');
    bob = await login(r2, 'bob');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop()));
    for (const router of routers) if (router.child.exitCode === null) router.child.kill('SIGKILL');
    if (control?.child.exitCode === null) control.child.kill('SIGKILL');
    await redisProxy?.close();
    await pgProxy?.close();
    await redis?.release();
    await database?.drop();
    console.log(
      `control-down figures: ${Object.entries(figures)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}`,
    );
  });

  it('control stopped and PostgreSQL cut: routers stay ready and keep routing on their revision', async () => {
    await until(
      async () => (await routerRows())?.filter((r) => r.synced && r.revision === 1).length === 2,
      15_000,
      'both routers on revision 1',
    );
    const load = traffic(
      [
        [alice, bob],
        [bob, alice],
      ],
      'down',
    );
    await until(() => deliveredAt.size >= 10, 10_000, 'chat flowing');

    control!.child.kill('SIGKILL');
    pgProxy.cut();
    const downAt = Date.now();
    const heartbeat = async () =>
      JSON.parse((await redis.client.get(`meridian:router:${DC1}:n1`)) ?? '{}') as {
        heartbeatAt?: string;
        revision?: number;
        status?: string;
      };
    const before = await heartbeat();
    let readyChecks = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      expect([await r1.ready(), await r2.ready()]).toEqual([200, 200]);
      readyChecks++;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The routers go on reporting themselves on the revision they have.
    const after = await heartbeat();
    expect(after).toMatchObject({ revision: 1, status: 'ack' });
    expect(after.heartbeatAt! > before.heartbeatAt!).toBe(true);
    await load.stop();
    const outage = await settle(
      sent.filter((m) => m.id.startsWith('down-') && m.at >= downAt),
      'while control was down',
    );
    figures.downSent = outage.sent;
    figures.downDelivered = outage.delivered.length;
    figures.downErrored = outage.errored.length;
    figures.downReadyChecks = readyChecks;
    expect(outage.sent).toBeGreaterThan(50);
    expect(outage.delivered.length).toBe(outage.sent);

    // Control back, PostgreSQL back: it finds the routers where it left them.
    pgProxy.restore();
    const restartAt = Date.now();
    control = await startControl();
    await until(
      async () => (await routerRows())?.filter((r) => r.synced && r.revision === 1).length === 2,
      15_000,
      'control shows both routers again',
    );
    figures.controlBackMs = Date.now() - restartAt;
    expect(r1.child.exitCode).toBeNull();
    expect(r2.child.exitCode).toBeNull();
  }, 60_000);

  it('changes made while control cannot reach Redis are pushed when it returns, and the routers ACK them', async () => {
    const load = traffic(
      [
        [alice, bob],
        [bob, alice],
      ],
      'cut',
    );
    redisProxy.cut();
    const cutAt = Date.now();
    const bounce = await api('PUT', '/v1/bounce', {
      enabled: true,
      resendAfterMs: 300,
      maxRetries: 4,
    });
    expect(bounce.status, JSON.stringify(bounce.body)).toBe(200);
    for (const domain of ['tenant-a.example.net', 'tenant-b.example.net']) {
      const created = await api('PUT', `/v1/domains/${domain}`, { hostType: 'default' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    expect(
      (await api('PATCH', '/v1/domains/tenant-a.example.net', { enabled: false })).status,
    ).toBe(200);
    const settings = await api('PUT', '/v1/bounce', {
      enabled: true,
      resendAfterMs: 350,
      maxRetries: 4,
    });
    expect(settings.status).toBe(200);
    const latest = revisionOf(settings.etag);
    expect(latest).toBe(3);
    const pending = (await api('GET', '/v1/revisions?limit=2')).body.revisions as {
      pushed: boolean;
    }[];
    expect(pending.map((r) => r.pushed)).toEqual([false, false]);
    expect((await api('GET', '/v1/routers')).status).toBe(503);
    // The routers know nothing of it yet, and keep routing.
    const status = JSON.parse((await redis.client.get(`meridian:router:${DC2}:n1`))!) as {
      revision: number;
    };
    expect(status.revision).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await r1.ready()).toBe(200);

    redisProxy.restore();
    const restoredAt = Date.now();
    await until(
      async () => {
        const rows = await routerRows();
        return (
          rows?.length === 2 &&
          rows.every(
            (r) => r.status === 'ack' && r.revision === latest && r.domainSeq === 3 && r.synced,
          )
        );
      },
      20_000,
      `both routers ACK revision ${latest} and domain seq 3`,
    );
    figures.redisCutMs = restoredAt - cutAt;
    figures.pushedAndAckedMs = Date.now() - restoredAt;
    const pushed = (await api('GET', '/v1/revisions?limit=2')).body.revisions as {
      pushed: boolean;
    }[];
    expect(pushed.map((r) => r.pushed)).toEqual([true, true]);
    // The domain created meanwhile is served: a user of it logs in and chats.
    const carol = await login(r1, 'carol', 'tenant-b.example.net');
    await carol.message(bob.jid, 'from tenant-b', { id: 'tenant-b-1' });
    await bob.waitFor((s) => s.getChildText('body') === 'from tenant-b', 'tenant-b message');

    await load.stop();
    const during = await settle(
      sent.filter((m) => m.id.startsWith('cut-')),
      'while control was cut from Redis',
    );
    figures.cutSent = during.sent;
    figures.cutDelivered = during.delivered.length;
    figures.cutErrored = during.errored.length;
    expect(during.delivered.length).toBe(during.sent);
  }, 60_000);

  it('a router refusing a revision keeps routing on the old one, shows the NACK, and applies the next good one', async () => {
    const dave = await login(r2, 'dave');
    const removed = await api('DELETE', `/v1/datacenters/${DC2}`);
    expect(removed.status).toBe(204);
    const refused = revisionOf(removed.etag);
    const removedAt = Date.now();
    await until(
      async () => {
        const rows = await routerRows();
        return rows?.some((r) => r.localHost === DC2 && r.status === 'nack') ?? false;
      },
      15_000,
      'the NACK shows',
    );
    figures.nackShownMs = Date.now() - removedAt;
    const rows = (await routerRows())!;
    expect(rows.find((r) => r.localHost === DC2)).toMatchObject({
      status: 'nack',
      rejectedRevision: refused,
      revision: refused - 1,
      synced: false,
    });
    expect(rows.find((r) => r.localHost === DC2)!.error).toMatch(/dc2\.example\.com/);
    expect(rows.find((r) => r.localHost === DC1)).toMatchObject({
      status: 'ack',
      revision: refused,
    });

    // dc2's router is up, ready, and routes its users on the revision it kept.
    expect(r2.child.exitCode).toBeNull();
    expect(await r2.ready()).toBe(200);
    const load = traffic(
      [
        [bob, dave],
        [dave, bob],
      ],
      'nack',
    );
    await until(
      () => sent.filter((m) => m.id.startsWith('nack-')).length >= 40,
      20_000,
      'chat on dc2 during the NACK',
    );
    await load.stop();
    const local = await settle(
      sent.filter((m) => m.id.startsWith('nack-')),
      'chat on the router that refused',
    );
    figures.nackSent = local.sent;
    figures.nackDelivered = local.delivered.length;
    expect(local.delivered.length).toBe(local.sent);

    // The datacenter back: a good revision, applied by both.
    const restored = await api('PUT', `/v1/datacenters/${DC2}`, {});
    expect(restored.status).toBe(201);
    const good = revisionOf(restored.etag);
    const goodAt = Date.now();
    await until(
      async () =>
        (await routerRows())?.every((r) => r.status === 'ack' && r.revision === good) ?? false,
      15_000,
      `both routers ACK revision ${good}`,
    );
    figures.goodAppliedMs = Date.now() - goodAt;
    // And the two datacenters chat again.
    const again = traffic(
      [
        [alice, bob],
        [bob, alice],
      ],
      'after',
    );
    await until(
      () => sent.filter((m) => m.id.startsWith('after-')).length >= 20,
      20_000,
      'chat after the good revision',
    );
    await again.stop();
    const after = await settle(
      sent.filter((m) => m.id.startsWith('after-')),
      'chat after the good revision',
    );
    figures.afterSent = after.sent;
    figures.afterDelivered = after.delivered.length;
    expect(after.delivered.length).toBe(after.sent);
    figures.totalSent = sent.length;
    figures.totalDelivered = sent.filter((m) => deliveredAt.has(m.id)).length;
    figures.totalErrored = sent.filter((m) => erroredAt.has(m.id) && !deliveredAt.has(m.id)).length;
    expect(r1.child.exitCode).toBeNull();
    expect(r2.child.exitCode).toBeNull();
  }, 60_000);
});
