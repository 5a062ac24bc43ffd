// The session table's public face (docs/router-core.md): where a JID is online (which
// datacenter, and within this one which node), with a local cache in front of Redis.
//
// Failure contract: `lookup` and `nodeOf` answer from the cache without Redis. When Redis is
// needed and cannot answer (down, or no answer within LOOKUP_TIMEOUT_MS) they reject at once
// with SessionTableUnavailableError, which is never cached: null means "no such session" (a
// miss, cached per cache.cacheMissed); the error means "unknown right now". Routing bounces
// on both, and each retry reads again. Registration and unregistration reject likewise, so
// the edge refuses the login (an unregistration that failed is left to expire).
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { MeridianConfigDocument } from '#config';
import { datacenterResourcesKey, nodeDomainsKey, sessionKey } from '#redis-keys';
import { bareString, isDomainJid, jidToString, type Jid } from '#xmpp';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';
import { GdMetrics } from '../metrics/gd-metrics';
import { InvalidationChannel } from './invalidation-channel';
import { MappingCache, type MappingKind } from './mapping-cache';
import { NodeRegistry } from './node-registry';
import { checked, execChecked, withDeadline } from './redis-replies';
import { SessionRefresher } from './session-refresher';
import { SessionStore } from './session-store';
import { SessionTablePolicy } from './session-table-policy';
import { SessionTableRedis } from './session-table-redis';

/** Where a JID is online: the datacenter named by its localHost. */
export interface Location {
  readonly localHost: string;
}

/** A lookup reading Redis gives up after this long: routing must not wait on a stuck Redis. */
export const LOOKUP_TIMEOUT_MS = 250;

interface Candidate {
  readonly kind: MappingKind;
  readonly key: string;
}

@Injectable()
export class SessionTable implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionTable.name);
  private readonly cache: MappingCache;
  private stopping: Promise<void> | null = null;
  private readonly invalidationListeners: ((jids: readonly string[]) => void)[] = [];

  constructor(
    private readonly redis: SessionTableRedis,
    private readonly store: SessionStore,
    private readonly registry: NodeRegistry,
    private readonly refresher: SessionRefresher,
    private readonly invalidation: InvalidationChannel,
    private readonly policy: SessionTablePolicy,
    private readonly metrics: GdMetrics,
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
  ) {
    this.cache = new MappingCache(policy.cache);
    policy.onChange(({ cache }) => {
      if (cache) this.cache.setPolicy(this.policy.cache);
    });
    invalidation.listen({
      drop: (jids) => {
        jids.forEach((jid) => this.cache.drop(jid));
        for (const listener of this.invalidationListeners) listener(jids);
      },
      lost: () => this.cache.clear(),
    });
  }

  /**
   * Called with the JIDs of every invalidation notice (a login, logout or component change
   * anywhere in this Redis), after the cache dropped them: the bounce queue retries stanzas
   * for those JIDs at once instead of waiting for its next retry.
   */
  onInvalidated(listener: (jids: readonly string[]) => void): void {
    this.invalidationListeners.push(listener);
  }

  /**
   * Takes a revision's cache.* and redis.* (for the whole module: NodeRegistry and the
   * refresher too). Call on every revision; unchanged values change nothing.
   */
  applyConfig(config: MeridianConfigDocument): void {
    this.policy.apply(config);
  }

  /** Resolves once Redis holds the full and bare JID keys and this node's resource entry. */
  async registerSession(full: Jid, options: { replacing?: boolean } = {}): Promise<void> {
    await this.store.addSession(full, options.replacing ?? false);
    await this.announce([jidToString(full), bareString(full)]);
  }

  /** Removes the session's keys that still name this datacenter (and node). */
  async unregisterSession(full: Jid): Promise<void> {
    if (await this.store.removeSession(full)) {
      await this.announce([jidToString(full), bareString(full)]);
    }
  }

  async registerComponentDomain(domain: string): Promise<void> {
    const normalized = domain.toLowerCase();
    await this.store.addDomain(normalized);
    await this.announce([normalized]);
  }

  async unregisterComponentDomain(domain: string): Promise<void> {
    const normalized = domain.toLowerCase();
    if (await this.store.removeDomain(normalized)) await this.announce([normalized]);
  }

  /**
   * The datacenter where `to` is online, or null if nowhere: a full JID, then its bare JID;
   * a bare JID; a domain JID (no localpart) by the component domain mapping.
   */
  async lookup(to: Jid): Promise<Location | null> {
    this.metrics.mappingFetches.inc();
    const candidates: Candidate[] = isDomainJid(to)
      ? [{ kind: 'domain', key: to.domain }]
      : to.resource === ''
        ? [{ kind: 'jid', key: bareString(to) }]
        : [
            { kind: 'jid', key: jidToString(to) },
            { kind: 'jid', key: bareString(to) },
          ];
    const cached = candidates.map(({ kind, key }) => this.cache.get(kind, key));
    // In order: a cached mapping answers once every candidate before it is a cached miss.
    for (const value of cached) {
      if (value === undefined) break;
      if (value !== null) return { localHost: value };
    }
    if (cached.every((value) => value === null)) return null;

    const read = await this.readMappings(
      candidates.filter((_, index) => cached[index] === undefined),
    );
    const found = candidates
      .map(({ key }, index) => cached[index] ?? read.get(key) ?? null)
      .find((value) => value !== null);
    return found ? { localHost: found } : null;
  }

  /**
   * The node of this datacenter holding the session of a full JID, or null (no resource, no
   * entry, or a node whose heartbeat is gone).
   */
  async nodeOf(full: Jid): Promise<string | null> {
    if (full.resource === '' || isDomainJid(full)) return null;
    const key = jidToString(full);
    let node = this.cache.get('node', key);
    if (node === undefined) {
      const ticket = this.cache.beginRead(key);
      try {
        node = await withDeadline(
          checked(
            this.redis.commands.hget(
              datacenterResourcesKey(this.env.localHost, bareString(full)),
              full.resource,
            ),
            'nodeOf',
          ),
          LOOKUP_TIMEOUT_MS,
          'nodeOf',
        );
      } finally {
        this.cache.endRead(ticket);
      }
      if (!ticket.dropped) this.cache.set('node', key, node);
    }
    if (node === null) return null;
    return (await this.registry.liveNodesHere()).has(node) ? node : null;
  }

  /**
   * The live nodes of this datacenter serving a component domain (their `{domains}` set holds
   * it), sorted by name so every node picks the same first one. Cached like a JID's node and
   * dropped by the domain's invalidation notices.
   */
  async nodesOfDomain(domain: string): Promise<string[]> {
    const normalized = domain.toLowerCase();
    const live = await this.registry.liveNodesHere();
    let cached = this.cache.get('node', normalized);
    if (cached === undefined) {
      const candidates = [...live].sort();
      const ticket = this.cache.beginRead(normalized);
      let replies: unknown[];
      try {
        const pipeline = this.redis.commands.pipeline();
        for (const node of candidates)
          pipeline.sismember(nodeDomainsKey(this.env.localHost, node), normalized);
        replies = await withDeadline(
          execChecked(pipeline, 'nodesOfDomain'),
          LOOKUP_TIMEOUT_MS,
          'nodesOfDomain',
        );
      } finally {
        this.cache.endRead(ticket);
      }
      const holders = candidates.filter((_, index) => replies[index] === 1);
      // Node names cannot hold a newline (RouterEnv), so one string carries the list.
      cached = holders.length > 0 ? holders.join('\n') : null;
      if (!ticket.dropped) this.cache.set('node', normalized, cached);
    }
    return cached === null ? [] : cached.split('\n').filter((node) => live.has(node));
  }

  /**
   * Where the session of a full JID is registered, read from Redis (not the cache): its
   * datacenter, and the node there holding it (null when that datacenter's resource hash has
   * no entry). No fallback to the bare JID. For the edge, which tells an older session of a
   * full JID that a newer one replaces it.
   */
  async holderOf(full: Jid): Promise<{ localHost: string; node: string | null } | null> {
    if (full.resource === '' || isDomainJid(full)) return null;
    const localHost = await withDeadline(
      checked(this.redis.commands.get(sessionKey(jidToString(full))), 'holderOf'),
      LOOKUP_TIMEOUT_MS,
      'holderOf',
    );
    if (!localHost) return null;
    const node = await withDeadline(
      checked(
        this.redis.commands.hget(
          datacenterResourcesKey(localHost, bareString(full)),
          full.resource,
        ),
        'holderOf',
      ),
      LOOKUP_TIMEOUT_MS,
      'holderOf',
    );
    return { localHost, node };
  }

  /**
   * The live nodes of this datacenter holding a resource of a bare JID (none when unknown):
   * where a stanza to the bare JID goes when this node has none of its resources.
   */
  async nodesOfBare(bare: Jid): Promise<string[]> {
    if (isDomainJid(bare)) return [];
    const holders = await withDeadline(
      checked(
        this.redis.commands.hgetall(datacenterResourcesKey(this.env.localHost, bareString(bare))),
        'nodesOfBare',
      ),
      LOOKUP_TIMEOUT_MS,
      'nodesOfBare',
    );
    const nodes = [...new Set(Object.values(holders))].sort();
    if (nodes.length === 0) return [];
    const live = await this.registry.liveNodesHere();
    return nodes.filter((node) => live.has(node));
  }

  /**
   * A stanza from another datacenter: its sender lives at `localHost`. Cached only (not
   * written to Redis), so replies route back without a lookup (ARCHITECTURE §6.3).
   */
  learnOrigin(from: Jid, localHost: string): void {
    if (isDomainJid(from)) {
      this.cache.learn('domain', from.domain, localHost);
      return;
    }
    if (from.resource !== '') this.cache.learn('jid', jidToString(from), localHost);
    this.cache.learn('jid', bareString(from), localHost);
  }

  /** Drops the cached entries of a JID (full and bare) or domain; the next lookup reads Redis. */
  forget(jid: Jid): void {
    this.cache.drop(jidToString(jid));
    // For a domain JID the bare form is the domain: its component mapping goes too.
    this.cache.drop(bareString(jid));
  }

  /**
   * Graceful shutdown: stops the refresher, removes this node's session and domain keys that
   * are still ours and its node entries, and announces the change. Never rejects (a Redis
   * outage must not block the exit: the keys then expire). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private async stopNow(): Promise<void> {
    await this.refresher.stop();
    const sessions = this.store.local.sessionCount;
    const domains = this.store.local.domainCount;
    const released = await this.attempt('sessions and domains', () => this.store.removeAll());
    const removedNode = await this.attempt('node entries', () =>
      this.registry.stop().then(() => true),
    );
    if (released && removedNode) {
      this.logger.log(`Removed ${sessions} sessions and ${domains} component domains from Redis`);
    }
    await this.announce(released ?? []);
  }

  /** A shutdown step that may fail on a Redis outage without blocking the others. */
  private async attempt<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        `Could not remove this node's ${what} from Redis (they will expire): ${message}`,
      );
      return undefined;
    }
  }

  /** Reads uncached mappings in one round trip and caches what was read. */
  private async readMappings(
    candidates: readonly Candidate[],
  ): Promise<Map<string, string | null>> {
    this.metrics.mappingCacheMisses.inc();
    const tickets = candidates.map(({ key }) => this.cache.beginRead(key));
    const stopTimer = this.metrics.mappingFetchTime.startTimer();
    let replies: unknown[];
    try {
      const pipeline = this.redis.commands.pipeline();
      for (const { key } of candidates) pipeline.get(sessionKey(key));
      replies = await withDeadline(execChecked(pipeline, 'lookup'), LOOKUP_TIMEOUT_MS, 'lookup');
    } finally {
      stopTimer();
      tickets.forEach((ticket) => this.cache.endRead(ticket));
    }
    const values = new Map<string, string | null>();
    candidates.forEach(({ kind, key }, index) => {
      const value = (replies[index] as string | null) ?? null;
      values.set(key, value);
      // An invalidation notice during the read makes what was read possibly stale.
      if (!tickets[index].dropped) this.cache.set(kind, key, value);
    });
    return values;
  }

  private async announce(jids: readonly string[]): Promise<void> {
    for (const jid of jids) this.cache.drop(jid);
    if (jids.length > 0) await this.invalidation.publish(jids);
  }
}
