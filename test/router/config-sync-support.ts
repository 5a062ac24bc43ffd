// What the config-sync tests need: a router environment, and Redis written the way control's
// ConfigPublisher writes it (apps/control/src/publishing/config-publisher.ts), with switches
// to lose notices on purpose.
import {
  CONFIG_CHANNEL,
  CONFIG_LATEST_KEY,
  configRevisionKey,
  DOMAIN_EVENTS_KEPT,
  DOMAIN_EVENTS_KEY,
  DOMAIN_SEQ_KEY,
  DOMAINS_CHANNEL,
  DOMAINS_KEY,
  encodeDomainState,
  type PublishedDomainEvent,
  type PublishedRevision,
} from '#redis-keys';
import type Redis from 'ioredis';
import { parseRouterEnv, type RouterEnv } from '../../apps/router/src/env/router-env';

export const LOCAL_HOST = 'dc1.example.com';
export const BASE = {
  globalHost: 'example.com',
  datacenters: [{ localHost: LOCAL_HOST }, { localHost: 'dc2.example.com' }],
};

export function routerEnv(redisUrl: string, overrides: Record<string, string> = {}): RouterEnv {
  return parseRouterEnv(
    {
      MERIDIAN_LOCAL_HOST: LOCAL_HOST,
      MERIDIAN_NODE: 'sync-test',
      REDIS_URL: redisUrl,
      HTTP_PORT: '0',
      // Ephemeral listeners: test files run in parallel, each with routers of its own.
      C2S_PORT: '0',
      COMPONENT_PORT: '0',
      INTERLINK_LISTEN: '127.0.0.1:0',
      CONFIG_POLL_INTERVAL_MS: '300',
      CONFIG_BOOT_TIMEOUT_MS: '5000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...overrides,
    },
    { hostname: 'test', pid: process.pid, isReadableFile: () => false },
  );
}

export interface RevisionOptions {
  /** Publish the number on `meridian:config` (default true). */
  readonly notify?: boolean;
  /** Move `meridian:config:latest` (default true). */
  readonly latest?: boolean;
}

/** As control's writeRevision: rev:<n>, latest (never backwards), then the notice. */
export async function publishRevision(
  client: Redis,
  revision: number,
  config: unknown,
  options: RevisionOptions = {},
): Promise<void> {
  const published: PublishedRevision = {
    revision,
    hash: `hash-${revision}`,
    createdAt: new Date().toISOString(),
    config,
  };
  const value = JSON.stringify(published);
  await client.set(configRevisionKey(revision), value);
  if (options.latest ?? true) {
    const current = await client.get(CONFIG_LATEST_KEY);
    const currentNumber = current ? (JSON.parse(current) as PublishedRevision).revision : 0;
    if (revision >= currentNumber) await client.set(CONFIG_LATEST_KEY, value);
  }
  if (options.notify ?? true) await client.publish(CONFIG_CHANNEL, String(revision));
}

export interface DomainEventsOptions {
  /** Seqs written to Redis but not published (a lost notice). */
  readonly unpublished?: ReadonlySet<number>;
}

/** As control's writeDomainEvents: one pipeline per batch of up to 1,000 events. */
export async function pushDomainEvents(
  client: Redis,
  events: readonly PublishedDomainEvent[],
  options: DomainEventsOptions = {},
): Promise<void> {
  for (let start = 0; start < events.length; start += 1000) {
    const batch = events.slice(start, start + 1000);
    const pipeline = client.pipeline();
    const entries: string[] = [];
    for (const event of batch) {
      if (event.op === 'delete') pipeline.hdel(DOMAINS_KEY, event.domain);
      else
        pipeline.hset(
          DOMAINS_KEY,
          event.domain,
          encodeDomainState(event.hostType!, event.enabled!),
        );
      entries.push(JSON.stringify(event));
    }
    pipeline.rpush(DOMAIN_EVENTS_KEY, ...entries);
    pipeline.ltrim(DOMAIN_EVENTS_KEY, -DOMAIN_EVENTS_KEPT, -1);
    pipeline.set(DOMAIN_SEQ_KEY, String(batch[batch.length - 1]!.seq));
    batch.forEach((event, i) => {
      if (!options.unpublished?.has(event.seq)) pipeline.publish(DOMAINS_CHANNEL, entries[i]!);
    });
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0];
  }
}

/** As control's rewriteDomainSet: the whole set in chunks, the seq last, then `reload`. */
export async function rewriteDomainSet(
  client: Redis,
  seq: number,
  domains: ReadonlyMap<string, { hostType: string; enabled: boolean }>,
  options: { notify?: boolean } = {},
): Promise<void> {
  await client.del(DOMAINS_KEY, DOMAIN_EVENTS_KEY);
  const entries = [...domains];
  for (let start = 0; start < entries.length; start += 5000) {
    const fields: string[] = [];
    for (const [domain, state] of entries.slice(start, start + 5000)) {
      fields.push(domain, encodeDomainState(state.hostType, state.enabled));
    }
    await client.hset(DOMAINS_KEY, ...fields);
  }
  await client.set(DOMAIN_SEQ_KEY, String(seq));
  if (options.notify ?? true)
    await client.publish(DOMAINS_CHANNEL, JSON.stringify({ seq, op: 'reload' }));
}

export const upsert = (
  seq: number,
  domain: string,
  enabled = true,
  hostType = 'default',
): PublishedDomainEvent => ({ seq, op: 'upsert', domain, hostType, enabled });

export const remove = (seq: number, domain: string): PublishedDomainEvent => ({
  seq,
  op: 'delete',
  domain,
});

export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}
