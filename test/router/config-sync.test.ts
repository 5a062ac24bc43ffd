// A router keeps its configuration and dynamic domains in step with Redis, written here the
// way control writes it: boot rules, notices, polling, NACKs, domain gaps and reloads, the
// status record, readiness, and a Redis outage.
import { INestApplication, Logger } from '@nestjs/common';
import { routerStatusKey, type RouterStatusRecord } from '#redis-keys';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BootError } from '../../apps/router/src/boot/boot-error';
import { createRouterApp, startRouter } from '../../apps/router/src/boot/start-router';
import { RouterConfig, RouterStatus, type RouterSnapshot } from '../../apps/router/src/config-sync';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import {
  BASE,
  LOCAL_HOST,
  publishRevision,
  pushDomainEvents,
  remove,
  rewriteDomainSet,
  routerEnv,
  until,
  upsert,
} from './config-sync-support';

let redis: TestRedis;
const statusKey = routerStatusKey(LOCAL_HOST, 'sync-test');

beforeAll(async () => {
  redis = await leaseRedisDatabase();
});

afterAll(async () => {
  await redis?.release();
});

async function readStatus(): Promise<RouterStatusRecord | null> {
  const raw = await redis.client.get(statusKey);
  return raw ? (JSON.parse(raw) as RouterStatusRecord) : null;
}

function messagesOf(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map(([message]) => String(message));
}

describe('boot refuses to start', () => {
  it('when no revision appears within CONFIG_BOOT_TIMEOUT_MS', async () => {
    const started = Date.now();
    const boot = startRouter(routerEnv(redis.url, { CONFIG_BOOT_TIMEOUT_MS: '600' }));
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(
      /^no configuration revision in Redis \(meridian:config:latest\) after 600 ms \(CONFIG_BOOT_TIMEOUT_MS\)/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await redis.client.exists(statusKey)).toBe(0);
  });

  it('when the latest revision is unreadable, saying so', async () => {
    await redis.client.set('meridian:config:latest', '{"revision":');
    const boot = startRouter(routerEnv(redis.url, { CONFIG_BOOT_TIMEOUT_MS: '300' }));
    await expect(boot).rejects.toThrow(
      'no usable configuration revision after 300 ms (CONFIG_BOOT_TIMEOUT_MS): ' +
        'meridian:config:latest is unreadable (not JSON); ignoring it',
    );
    await redis.client.del('meridian:config:latest');
  });

  it('when MERIDIAN_LOCAL_HOST is not a datacenter of the revision', async () => {
    await publishRevision(redis.client, 1, {
      ...BASE,
      datacenters: [{ localHost: 'dc2.example.com' }],
    });
    const boot = startRouter(routerEnv(redis.url));
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(
      'MERIDIAN_LOCAL_HOST: dc1.example.com is not a datacenter of configuration revision 1 ' +
        '(its datacenters: dc2.example.com)',
    );
  });

  it('when the latest revision is invalid, listing every error', async () => {
    await publishRevision(redis.client, 2, { ...BASE, messageTtl: -1, cache: { maxJids: 0 } });
    const boot = startRouter(routerEnv(redis.url));
    const error = await boot.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BootError);
    expect((error as Error).message).toMatch(
      /^revision 2 refused: .* \(and 1 more\); every error:\n/,
    );
    expect((error as Error).message).toContain('\n  - messageTtl: must be an integer from 0 to 64');
    expect((error as Error).message).toContain('\n  - cache.maxJids: ');
  });
});

describe('a running router', () => {
  let app: INestApplication;
  let config: RouterConfig;
  const swaps: [RouterSnapshot, RouterSnapshot | null][] = [];
  let seq = 0;

  beforeAll(async () => {
    await redis.client.flushdb();
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await app?.close();
  });

  it('is not ready while it waits for a first revision, and ready once applied', async () => {
    await pushDomainEvents(redis.client, [upsert(++seq, 'tenant.example.net')]);
    app = await createRouterApp(routerEnv(redis.url));
    config = app.get(RouterConfig);
    config.onChange((next, previous) => swaps.push([next, previous]));
    const init = app.init();
    // Routes are registered before the init hooks run, so the probe answers during the wait.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waiting = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(waiting.body.details).toMatchObject({
      redis: { status: 'up' },
      config: { status: 'down', message: 'not yet applied' },
    });
    await request(app.getHttpServer()).get('/health/live').expect(200);

    await publishRevision(redis.client, 3, BASE);
    await init;
    const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(ready.body.details.config).toEqual({ status: 'up', revision: 3, domainSeq: 1 });
    expect(config.isServedDomain('tenant.example.net')).toBe(true);
    expect(config.isServedDomain('example.com')).toBe(true);
    expect(swaps.map(([next, previous]) => [next.revision, previous])).toEqual([[3, null]]);
  });

  it('writes its status with a 60 s TTL', async () => {
    await until(async () => (await readStatus())?.revision === 3, 2_000, 'status');
    const status = await readStatus();
    expect(status).toEqual({
      node: 'sync-test',
      localHost: LOCAL_HOST,
      revision: 3,
      domainSeq: 1,
      status: 'ack',
      startedAt: expect.any(String),
      heartbeatAt: expect.any(String),
    });
    const ttl = await redis.client.ttl(statusKey);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('applies a revision from its notice alone (latest not moved)', async () => {
    const elapsed = await (async () => {
      const started = performance.now();
      await publishRevision(redis.client, 4, { ...BASE, messageTtl: 5 }, { latest: false });
      await until(() => config.snapshot.revision === 4, 1_000, 'revision 4');
      return performance.now() - started;
    })();
    expect(elapsed).toBeLessThan(1_000);
    expect(config.snapshot.config.messageTtl).toBe(5);
    await until(async () => (await readStatus())?.revision === 4, 1_000, 'status 4');
  });

  it('applies a revision whose notice was lost, from the poll of latest', async () => {
    const started = performance.now();
    await publishRevision(redis.client, 5, { ...BASE, messageTtl: 6 }, { notify: false });
    await until(() => config.snapshot.revision === 5, 2_000, 'revision 5');
    // CONFIG_POLL_INTERVAL_MS is 300 here.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('ignores a revision older than the one applied', async () => {
    await publishRevision(redis.client, 2, { ...BASE, messageTtl: 9 }, { latest: false });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(config.snapshot.revision).toBe(5);
  });

  it('NACKs an invalid revision with its errors once, keeps the old one, ACKs the next good one', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    await publishRevision(redis.client, 6, {
      ...BASE,
      messageTtl: -1,
      bounce: { maxRetries: 'x' },
    });
    await until(async () => (await readStatus())?.status === 'nack', 2_000, 'nack');
    const status = (await readStatus())!;
    expect(status).toMatchObject({
      revision: 5,
      status: 'nack',
      rejectedRevision: 6,
      error: expect.stringMatching(/^revision 6 refused: /),
    });
    expect(status.errors!.map((e) => e.path).sort()).toEqual(['bounce.maxRetries', 'messageTtl']);
    expect(config.snapshot.revision).toBe(5);
    // Several polls later it has been judged (and logged) once.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(messagesOf(warn).filter((m) => m.includes('revision 6 refused'))).toHaveLength(1);
    warn.mockRestore();

    await publishRevision(redis.client, 7, { ...BASE, messageTtl: 7 });
    await until(async () => (await readStatus())?.revision === 7, 2_000, 'ack 7');
    const acked = (await readStatus())!;
    expect(acked.status).toBe('ack');
    expect(acked).not.toHaveProperty('rejectedRevision');
    expect(acked).not.toHaveProperty('errors');
    expect(config.snapshot.config.messageTtl).toBe(7);
  });

  it('NACKs a revision that no longer lists its datacenter and keeps running', async () => {
    await publishRevision(redis.client, 8, {
      ...BASE,
      datacenters: [{ localHost: 'dc2.example.com' }],
    });
    await until(async () => (await readStatus())?.rejectedRevision === 8, 2_000, 'nack 8');
    expect((await readStatus())!.errors).toEqual([
      { path: 'datacenters', message: expect.stringContaining(LOCAL_HOST) },
    ]);
    expect(config.snapshot.revision).toBe(7);
    await publishRevision(redis.client, 9, BASE);
    await until(() => config.snapshot.revision === 9, 2_000, 'revision 9');
  });

  it('applies a revision naming a domain it hears of after the revision', async () => {
    const component = { domain: 'muc.late.example.net', secret: 's'.repeat(24) };
    await publishRevision(redis.client, 10, { ...BASE, components: [component] });
    await until(async () => (await readStatus())?.rejectedRevision === 10, 2_000, 'nack 10');
    await pushDomainEvents(redis.client, [upsert(++seq, 'late.example.net')]);
    await until(() => config.snapshot.revision === 10, 3_000, 'revision 10 after its domain');
    expect(config.snapshot.config.components.map((c) => c.domain)).toEqual([
      'muc.late.example.net',
    ]);
    await until(async () => (await readStatus())?.status === 'ack', 2_000, 'ack 10');
  });

  it('applies 10,000 domain events in order, none missed', async () => {
    const first = seq + 1;
    const events = [];
    for (let i = 0; i < 10_000; i++) {
      const n = first + i;
      // Every tenth event disables the domain created just before it; every hundredth
      // deletes one: the outcome depends on the order.
      if (i % 100 === 99) events.push(remove(n, `t${i - 1}.example.net`));
      else if (i % 10 === 9) events.push(upsert(n, `t${i - 1}.example.net`, false));
      else events.push(upsert(n, `t${i}.example.net`));
    }
    seq = first + 9_999;
    const seqs: number[] = [];
    const off = config.onChange((next) => seqs.push(next.domainSeq));
    const log = vi.spyOn(Logger.prototype, 'log');
    const started = performance.now();
    await pushDomainEvents(redis.client, events);
    await until(() => config.snapshot.domainSeq === seq, 10_000, 'all events');
    const elapsed = performance.now() - started;
    off();
    // Every event came through the channel: no gap had to be filled by a reload.
    expect(messagesOf(log).filter((m) => m.startsWith('domain set loaded'))).toEqual([]);
    log.mockRestore();
    console.info(`10,000 domain events pushed and applied in ${elapsed.toFixed(0)} ms`);

    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const expected = new Map<string, boolean>();
    for (const event of events) {
      if (event.op === 'delete') expected.delete(event.domain);
      else expected.set(event.domain, event.enabled!);
    }
    const domains = config.snapshot.domains;
    for (const [domain, enabled] of expected) expect(domains.get(domain)?.enabled).toBe(enabled);
    expect(domains.size).toBe(expected.size + 2); // tenant and late
    expect(config.isServedDomain('t0.example.net')).toBe(true);
    expect(config.isServedDomain('t8.example.net')).toBe(false);
    expect(domains.has('t98.example.net')).toBe(false);
    await until(async () => (await readStatus())?.domainSeq === seq, 3_000, 'status seq');
  });

  it('repairs a dropped event from the events list', async () => {
    const log = vi.spyOn(Logger.prototype, 'log');
    const events = [
      upsert(seq + 1, 'g1.example.net'),
      upsert(seq + 2, 'g2.example.net'),
      upsert(seq + 3, 'g3.example.net'),
    ];
    seq += 3;
    await pushDomainEvents(redis.client, events, { unpublished: new Set([seq - 1]) });
    await until(() => config.snapshot.domainSeq === seq, 2_000, 'repair');
    expect(['g1', 'g2', 'g3'].map((d) => config.isServedDomain(`${d}.example.net`))).toEqual([
      true,
      true,
      true,
    ]);
    expect(
      messagesOf(log).filter((m) => m.includes('reloading') || m.includes('domain set loaded')),
    ).toEqual([]);
    log.mockRestore();
  });

  it('heals a lost last event from the seq poll', async () => {
    seq += 1;
    await pushDomainEvents(redis.client, [upsert(seq, 'quiet.example.net')], {
      unpublished: new Set([seq]),
    });
    await until(() => config.isServedDomain('quiet.example.net'), 2_000, 'poll repair');
  });

  it('reloads the whole set when the missing events are no longer in the list', async () => {
    const log = vi.spyOn(Logger.prototype, 'log');
    const events = Array.from({ length: 20 }, (_, i) => upsert(seq + 1 + i, `old${i}.example.net`));
    seq += 20;
    await pushDomainEvents(redis.client, events, {
      unpublished: new Set(events.map((e) => e.seq)),
    });
    // The list lost them (as if 10,000 newer events had pushed them out), then one more comes.
    await redis.client.del('meridian:domains:events');
    seq += 1;
    await pushDomainEvents(redis.client, [upsert(seq, 'after.example.net')]);
    await until(() => config.snapshot.domainSeq === seq, 2_000, 'reload');
    expect(config.isServedDomain('old0.example.net')).toBe(true);
    expect(config.isServedDomain('old19.example.net')).toBe(true);
    expect(config.isServedDomain('after.example.net')).toBe(true);
    expect(messagesOf(log).some((m) => m.startsWith('domain set loaded'))).toBe(true);
    log.mockRestore();
  });

  it('reloads the whole set on a reload notice', async () => {
    seq += 50;
    await rewriteDomainSet(
      redis.client,
      seq,
      new Map([
        ['fresh.example.net', { hostType: 'default', enabled: true }],
        ['late.example.net', { hostType: 'default', enabled: true }],
      ]),
    );
    await until(() => config.snapshot.domainSeq === seq, 2_000, 'reload notice');
    expect([...config.snapshot.domains.keys()].sort()).toEqual([
      'fresh.example.net',
      'late.example.net',
    ]);
    expect(config.isServedDomain('tenant.example.net')).toBe(false);
  });

  it('heartbeats and reports the session count given to it', async () => {
    app.get(RouterStatus).setSessionCount(42);
    // Past the write that follows domain changes, only the heartbeat writes.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const before = (await readStatus())!.heartbeatAt;
    await until(async () => (await readStatus())!.heartbeatAt !== before, 6_000, 'heartbeat');
    expect((await readStatus())!.sessions).toBe(42);
    expect(await redis.client.ttl(statusKey)).toBeGreaterThan(55);
  });

  it('keeps its snapshot through a Redis outage and heals when Redis is back', async () => {
    const before = config.snapshot;
    await redis.stop();
    await until(
      async () => {
        const response = await request(app.getHttpServer()).get('/health/ready');
        return response.status === 503;
      },
      3_000,
      'readiness red',
    );
    expect(config.snapshot).toBe(before);
    expect(config.isServedDomain('fresh.example.net')).toBe(true);

    // Redis comes back empty (no persistence), as control would find it before rewriting.
    await redis.restart();
    await until(
      async () => (await redis.client.exists(statusKey).catch(() => 0)) === 1,
      10_000,
      'status again',
    );
    expect(config.snapshot).toBe(before);
    await publishRevision(redis.client, 11, { ...BASE, messageTtl: 11 }, { notify: false });
    await until(() => config.snapshot.revision === 11, 5_000, 'revision after outage');
    seq += 1;
    await rewriteDomainSet(
      redis.client,
      seq,
      new Map([['back.example.net', { hostType: 'default', enabled: true }]]),
      { notify: false },
    );
    await until(() => config.isServedDomain('back.example.net'), 5_000, 'domains after outage');
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });

  it('deletes its status on graceful shutdown', async () => {
    expect(await redis.client.exists(statusKey)).toBe(1);
    await app.close();
    expect(await redis.client.exists(statusKey)).toBe(0);
  });
});
