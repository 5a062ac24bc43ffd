// Config sync at the size ARCHITECTURE §4b budgets for: 100,000 dynamic domains loaded at
// boot in chunks, 10,000 events applied on top of them, a full reload, and lookups that do
// not slow down with the set's size.
import { INestApplication, Logger } from '@nestjs/common';
import { DOMAIN_SEQ_KEY, DOMAINS_KEY, encodeDomainState } from '#redis-keys';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { RouterConfig } from '../../apps/router/src/config-sync';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import {
  BASE,
  publishRevision,
  pushDomainEvents,
  rewriteDomainSet,
  routerEnv,
  until,
  upsert,
} from './config-sync-support';

const DOMAINS = 100_000;
let redis: TestRedis;
let app: INestApplication;
let config: RouterConfig;
const logs: string[] = [];

beforeAll(async () => {
  redis = await leaseRedisDatabase();
  for (let start = 0; start < DOMAINS; start += 5_000) {
    const fields: string[] = [];
    for (let i = start; i < start + 5_000; i++) {
      fields.push(
        `tenant${i}.example.net`,
        encodeDomainState(i % 7 ? 'default' : 'gold', i % 13 !== 0),
      );
    }
    await redis.client.hset(DOMAINS_KEY, ...fields);
  }
  await redis.client.set(DOMAIN_SEQ_KEY, String(DOMAINS));
  await publishRevision(redis.client, 1, {
    ...BASE,
    hostTypes: [{ name: 'default' }, { name: 'gold' }],
  });
  vi.spyOn(Logger.prototype, 'log').mockImplementation(function (message: unknown) {
    logs.push(String(message));
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await app?.close();
  await redis?.release();
});

describe('config sync with 100,000 domains', () => {
  it('loads the whole set at boot', async () => {
    const started = performance.now();
    app = await startRouter(routerEnv(redis.url));
    const bootMs = performance.now() - started;
    config = app.get(RouterConfig);
    const loaded = logs.find((line) => line.startsWith('domain set loaded'));
    console.info(`boot with ${DOMAINS} domains: ${bootMs.toFixed(0)} ms; ${loaded}`);
    expect(loaded).toMatch(/^domain set loaded: 100000 domains at seq 100000 in \d+ ms$/);
    expect(config.snapshot.domains.size).toBe(DOMAINS);
    expect(config.snapshot.domainSeq).toBe(DOMAINS);
    expect(config.isServedDomain('tenant1.example.net')).toBe(true);
    expect(config.isServedDomain('tenant13.example.net')).toBe(false);
    expect(config.snapshot.domains.get('tenant14.example.net')).toEqual({
      hostType: 'gold',
      enabled: true,
    });
  });

  it('answers isServedDomain as fast as with a handful of domains', () => {
    const lookups = 1_000_000;
    const started = performance.now();
    let served = 0;
    for (let i = 0; i < lookups; i++) {
      if (config.isServedDomain(`tenant${i % 120_000}.example.net`)) served++;
    }
    const nsPerLookup = ((performance.now() - started) * 1e6) / lookups;
    console.info(`isServedDomain over ${DOMAINS} domains: ${nsPerLookup.toFixed(0)} ns per lookup`);
    expect(served).toBeGreaterThan(0);
    expect(nsPerLookup).toBeLessThan(2_000);
  });

  it('applies 10,000 events on top of them', async () => {
    const events = Array.from({ length: 10_000 }, (_, i) =>
      upsert(DOMAINS + 1 + i, `new${i}.example.net`),
    );
    const started = performance.now();
    await pushDomainEvents(redis.client, events);
    const pushedMs = performance.now() - started;
    await until(() => config.snapshot.domainSeq === DOMAINS + 10_000, 10_000, 'events');
    const appliedMs = performance.now() - started;
    console.info(
      `10,000 events over ${DOMAINS} domains: pushed in ${pushedMs.toFixed(0)} ms, ` +
        `all applied ${appliedMs.toFixed(0)} ms after the first push`,
    );
    expect(config.snapshot.domains.size).toBe(DOMAINS + 10_000);
    expect(logs.filter((line) => line.startsWith('domain set loaded'))).toHaveLength(1);
  });

  it('reloads the whole set on a reload notice', async () => {
    const domains = new Map<string, { hostType: string; enabled: boolean }>();
    for (let i = 0; i < DOMAINS; i++) {
      domains.set(`other${i}.example.org`, { hostType: 'default', enabled: true });
    }
    const seq = DOMAINS + 20_000;
    await rewriteDomainSet(redis.client, seq, domains);
    const started = performance.now();
    await until(() => config.snapshot.domainSeq === seq, 20_000, 'reload');
    console.info(
      `reload of ${DOMAINS} domains applied ${(performance.now() - started).toFixed(0)} ms ` +
        `after the notice; ${logs.filter((l) => l.startsWith('domain set loaded')).at(-1)}`,
    );
    expect(config.snapshot.domains.size).toBe(DOMAINS);
    expect(config.isServedDomain('other99999.example.org')).toBe(true);
    expect(config.isServedDomain('tenant1.example.net')).toBe(false);
  });
});
