// Routers of several datacenters as separate Nest applications in this process, on loopback,
// sharing one private Redis, with in-process test sessions plugged into the local-delivery
// port. The configuration is published into Redis the way control does it.
import type { INestApplication } from '@nestjs/common';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { Element } from 'ltx';
import { Registry } from 'prom-client';
import { validateConfig, type MeridianConfigDocument } from '#config';
import {
  CONFIG_CHANNEL,
  CONFIG_LATEST_KEY,
  configRevisionKey,
  type PublishedRevision,
} from '#redis-keys';
import { parseJid, type Jid } from '#xmpp';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { parseRouterEnv } from '../../apps/router/src/env/router-env';
import type { LocalSession } from '../../apps/router/src/local-delivery/local-session';
import { LocalSessions } from '../../apps/router/src/local-delivery/local-sessions';
import { Router } from '../../apps/router/src/routing/router.service';
import { leaseRedisDatabase, type TestRedis } from './redis';

export class TestSession implements LocalSession {
  readonly jid: Jid;
  readonly kind = 'internal' as const;
  readonly received: Element[] = [];
  closedWith: string | null = null;
  private waiters: (() => void)[] = [];

  constructor(jid: string) {
    const parsed = parseJid(jid);
    if (!parsed) throw new Error(`bad JID ${jid}`);
    this.jid = parsed;
  }

  deliver(stanza: Element): boolean {
    this.received.push(stanza);
    for (const wake of this.waiters.splice(0)) wake();
    return true;
  }

  close(condition: string): void {
    this.closedWith = condition;
  }

  bodies(): string[] {
    return this.received.map((s) => s.getChildText('body') ?? '');
  }

  errors(): Element[] {
    return this.received.filter((s) => s.attrs.type === 'error');
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<Element[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.jid.local}: ${this.received.length} of ${count} stanzas after ${timeoutMs} ms`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }
}

export interface RouterNode {
  readonly localHost: string;
  readonly node: string;
  readonly app: INestApplication;
  readonly router: Router;
  readonly sessions: LocalSessions;
  readonly interlinkPort: number;
  /** Where clients connect (C2S_PORT). */
  readonly c2sPort: number;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Logs a test session in (Redis written before it resolves). */
  login(jid: string): Promise<TestSession>;
  logout(session: TestSession): Promise<void>;
  send(
    from: TestSession | string,
    to: string,
    body: string,
    attrs?: Record<string, string>,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface Cluster {
  readonly redis: TestRedis;
  readonly nodes: RouterNode[];
  node(localHost: string, node?: string): RouterNode;
  revision: number;
  publish(change: (doc: MeridianConfigDocument) => void): Promise<number>;
  startNode(localHost: string, node: string): Promise<RouterNode>;
  close(): Promise<void>;
}

export const GLOBAL_HOST = 'example.com';

export function baseConfig(datacenters: string[]): MeridianConfigDocument {
  const result = validateConfig({
    globalHost: GLOBAL_HOST,
    datacenters: datacenters.map((localHost) => ({ localHost })),
    connections: {
      tls: { enabled: false },
      endpointRefreshIntervalS: 1,
      endpointRefreshIntervalCleanStartS: 1,
      disabledGcIntervalS: 1,
    },
    cache: { jidLifetimeS: 1 },
    bounce: { resendAfterMs: 50, maxRetries: 4 },
    redis: { expireAfterS: 10, refreshAfterS: 2 },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

export async function publishRevision(
  redis: TestRedis,
  revision: number,
  config: MeridianConfigDocument,
): Promise<void> {
  const value: PublishedRevision = {
    revision,
    hash: `test-${revision}`,
    createdAt: new Date().toISOString(),
    config,
  };
  const json = JSON.stringify(value);
  await redis.client.set(configRevisionKey(revision), json);
  await redis.client.set(CONFIG_LATEST_KEY, json);
  await redis.client.publish(CONFIG_CHANNEL, String(revision));
}

export interface ClusterOptions {
  /** Share this Redis (e.g. with a control plane); it is still released by close(). */
  readonly redis?: TestRedis;
  /** The configuration is already in Redis (control pushed it): do not publish one. */
  readonly configured?: boolean;
  /** TLS_CERT, TLS_KEY (and TLS_CA) of every router: c2s offers STARTTLS with them. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
}

export async function startCluster(
  layout: Record<string, string[]>,
  tune: (doc: MeridianConfigDocument) => void = () => undefined,
  options: ClusterOptions = {},
): Promise<Cluster> {
  const redis = options.redis ?? (await leaseRedisDatabase());
  let config = baseConfig(Object.keys(layout));
  tune(config);
  let revision = 1;
  if (!options.configured) await publishRevision(redis, revision, config);
  const nodes: RouterNode[] = [];
  const cluster: Cluster = {
    redis,
    nodes,
    get revision() {
      return revision;
    },
    node(localHost, node) {
      const found = nodes.find(
        (n) => n.localHost === localHost && (node === undefined || n.node === node),
      );
      if (!found) throw new Error(`no router ${localHost} ${node ?? ''}`);
      return found;
    },
    async publish(change) {
      const next = structuredClone(config);
      change(next);
      config = next;
      revision++;
      await publishRevision(redis, revision, next);
      return revision;
    },
    async startNode(localHost, node) {
      const started = await startNode(redis, localHost, node, options);
      nodes.push(started);
      return started;
    },
    async close() {
      await Promise.all(nodes.splice(0).map((n) => n.close()));
      await redis.release();
    },
  };
  for (const [localHost, names] of Object.entries(layout)) {
    for (const name of names) await cluster.startNode(localHost, name);
  }
  return cluster;
}

async function startNode(
  redis: TestRedis,
  localHost: string,
  node: string,
  options: ClusterOptions = {},
): Promise<RouterNode> {
  const [interlinkPort, c2sPort, componentPort] = await freePorts(3);
  const tls = options.tls;
  const env = parseRouterEnv(
    {
      MERIDIAN_LOCAL_HOST: localHost,
      MERIDIAN_NODE: node,
      REDIS_URL: redis.url,
      HTTP_PORT: '0',
      C2S_PORT: String(c2sPort),
      COMPONENT_PORT: String(componentPort),
      INTERLINK_LISTEN: `127.0.0.1:${interlinkPort}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...(tls ? { TLS_CERT: tls.certFile, TLS_KEY: tls.keyFile, TLS_CA: tls.caFile } : {}),
    },
    { hostname: 'test', pid: process.pid, isReadableFile: readable },
  );
  const app = await startRouter(env);
  const router = app.get(Router);
  const sessions = app.get(LocalSessions);
  const registry = app.get(Registry);
  return {
    localHost,
    node,
    app,
    router,
    sessions,
    interlinkPort,
    c2sPort,
    async metric(name, labels = {}) {
      // Counters and gauges by name; histograms by their `_count` sample.
      const base = name.replace(/_count$/, '');
      const metric = await registry.getSingleMetric(base)?.get();
      if (!metric) throw new Error(`no metric ${base}`);
      return metric.values
        .filter(
          (v) =>
            (v as { metricName?: string }).metricName === undefined ||
            (v as { metricName?: string }).metricName === name,
        )
        .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async login(jid) {
      const session = new TestSession(jid);
      await sessions.register(session);
      return session;
    },
    async logout(session) {
      await sessions.unregister(session);
    },
    async send(from, to, body, attrs = {}) {
      const fromJid =
        typeof from === 'string'
          ? from
          : `${from.jid.local}@${from.jid.domain}/${from.jid.resource}`;
      const stanza = new Element('message', { from: fromJid, to, type: 'chat', ...attrs });
      stanza.c('body').t(body);
      await router.route(stanza);
    },
    async close() {
      await app.close();
    },
  };
}

function readable(path: string): boolean {
  try {
    accessSync(path, fsConstants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `count` distinct free ports: each is held open until all are found, so two calls in a row
 * cannot be handed the same port the kernel just took back.
 */
export async function freePorts(count: number): Promise<number[]> {
  const probes = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const probe = createServer();
          probe.once('error', reject);
          probe.listen(0, '127.0.0.1', () => resolve(probe));
        }),
    ),
  );
  const ports = probes.map((probe) => (probe.address() as { port: number }).port);
  await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  return ports;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
