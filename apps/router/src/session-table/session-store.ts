// This node's session and component-domain keys in Redis (ARCHITECTURE §5, docs/router-core.md):
// written on login, rewritten by the refresher, removed on logout only while they are still
// ours. Dynomite allows neither MULTI/EXEC nor Lua, so "still ours" is a read followed by a
// delete (pipelined, one key per command); a write by another datacenter landing between the
// two can be lost, as in MongooseIM, and is healed by that datacenter's next refresh.
import { Inject, Injectable } from '@nestjs/common';
import { TickBatcher } from '#common';
import { datacenterResourcesKey, nodeDomainsKey, sessionKey } from '#redis-keys';
import { bareString, jidToString, type Jid } from '#xmpp';
import type { ChainableCommander } from 'ioredis';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';
import { LocalRegistrations } from './local-registrations';
import { NodeRegistry } from './node-registry';
import { chunks, execChecked } from './redis-replies';
import { SessionTableStoppedError } from './session-table-errors';
import { SessionTablePolicy } from './session-table-policy';
import { SessionTableRedis } from './session-table-redis';

/** Sessions (or domains) per pipeline when refreshing or removing in bulk. */
export const BATCH_SIZE = 1_000;
/** After a login, when to look for its keys deleted by a racing logout elsewhere. */
export const RECHECK_AFTER_MS = [300, 1_500] as const;

@Injectable()
export class SessionStore {
  readonly local = new LocalRegistrations();
  /** The refresh pipeline on the wire, which a logout waits for (see removeSession). */
  private batchInFlight: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Session keys written again after a racing logout deleted them (see restoreMissing). */
  restored = 0;
  /** Logins of one event-loop turn share one pipeline (one write, one read). */
  private readonly adds = new TickBatcher<{ full: Jid; replacing: boolean }>(
    (added) => this.writeNewSessions(added),
    BATCH_SIZE,
  );

  constructor(
    private readonly redis: SessionTableRedis,
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly policy: SessionTablePolicy,
    private readonly registry: NodeRegistry,
  ) {}

  /** Resolves once Redis holds every key of the session; rejects (nothing remembered) if not. */
  /** `replacing`: an older session of this JID was found elsewhere (see restoreMissing). */
  async addSession(full: Jid, replacing = false): Promise<void> {
    if (this.stopped) throw new SessionTableStoppedError();
    await this.adds.add({ full, replacing });
  }

  private async writeNewSessions(
    added: readonly { full: Jid; replacing: boolean }[],
  ): Promise<void> {
    if (this.stopped) throw new SessionTableStoppedError();
    const pipeline = this.redis.commands.pipeline();
    for (const { full } of added) this.writeSessions(pipeline, bareString(full), [full]);
    await execChecked(pipeline, 'registerSession');
    for (const { full } of added) this.local.addSession(full);
    const replacing = added.filter((a) => a.replacing).map((a) => a.full);
    if (replacing.length === 0) return;
    for (const delayMs of RECHECK_AFTER_MS) {
      setTimeout(() => void this.restoreMissing(replacing).catch(() => undefined), delayMs).unref();
    }
  }

  /**
   * A logout of the same JID on another node (the user moved, or newest wins) deletes keys
   * "still ours" by reading then deleting: without MULTI or Lua, our write can land between
   * the two and be deleted. Shortly after a login that found an older session elsewhere (the
   * only case where such a logout can still run), keys of sessions still here that have gone
   * missing are written again, instead of waiting for the next refresh. A key naming another
   * datacenter or node is newer than ours and left alone.
   */
  private async restoreMissing(fulls: readonly Jid[]): Promise<void> {
    const current = fulls.filter((full) => this.local.hasSession(full));
    if (current.length === 0 || this.stopped) return;
    const { localHost } = this.env;
    const read = this.redis.commands.pipeline();
    for (const full of current) {
      read
        .get(sessionKey(jidToString(full)))
        .hget(datacenterResourcesKey(localHost, bareString(full)), full.resource)
        .get(sessionKey(bareString(full)));
    }
    const held = (await execChecked(read, 'registerSession')) as (string | null)[];
    const missing = current.filter((_, index) =>
      held.slice(3 * index, 3 * index + 3).includes(null),
    );
    if (missing.length === 0 || this.stopped) return;
    const write = this.redis.commands.pipeline();
    for (const full of missing) this.writeSessions(write, bareString(full), [full]);
    await execChecked(write, 'registerSession');
    this.restored += missing.length;
  }

  /**
   * Forgets a registration; when it was the last one of that full JID (or unknown, e.g. a
   * login whose write failed half-way), removes the keys still ours. Returns whether it did.
   */
  async removeSession(full: Jid): Promise<boolean> {
    if (this.local.hasSession(full) && !this.local.removeSession(full)) return false;
    // A refresh pipeline built before the line above may still be on the wire with this
    // session in it; deleting before it lands would let it write the keys back.
    await this.batchInFlight.catch(() => undefined);
    await this.releaseSessions([full]);
    return true;
  }

  async addDomain(domain: string): Promise<void> {
    if (this.stopped) throw new SessionTableStoppedError();
    const pipeline = this.redis.commands.pipeline();
    this.writeDomains(pipeline, [domain]);
    await execChecked(pipeline, 'registerComponentDomain');
    this.local.addDomain(domain);
  }

  async removeDomain(domain: string): Promise<boolean> {
    if (this.local.hasDomain(domain) && !this.local.removeDomain(domain)) return false;
    await this.batchInFlight.catch(() => undefined);
    await this.releaseDomains([domain]);
    return true;
  }

  /** Rewrites every local session and domain key with a fresh expiry, in batches. */
  async refresh(): Promise<void> {
    for (const batch of batchBySessions(this.local.bares())) {
      const pipeline = this.redis.commands.pipeline();
      for (const { bare, sessions } of batch) {
        // Filtered now, not in the snapshot: a logout since then must not be written back.
        const current = sessions.filter((full) => this.local.hasSession(full));
        if (current.length > 0) this.writeSessions(pipeline, bare, current);
      }
      await this.send(pipeline, 'refresh');
    }
    for (const batch of chunks(this.local.domainList(), BATCH_SIZE)) {
      const current = batch.filter((domain) => this.local.hasDomain(domain));
      if (current.length === 0) continue;
      const pipeline = this.redis.commands.pipeline();
      this.writeDomains(pipeline, current);
      await this.send(pipeline, 'refresh');
    }
  }

  /**
   * Removes from this datacenter's resource hashes of our bare JIDs the resources held by
   * nodes no longer alive: other nodes keep those hashes alive, so they would not expire.
   */
  async sweepDeadResources(liveNodes: ReadonlySet<string>): Promise<number> {
    const { localHost, node } = this.env;
    let removed = 0;
    for (const batch of chunks(this.local.bares(), BATCH_SIZE)) {
      const read = this.redis.commands.pipeline();
      for (const { bare } of batch) read.hgetall(datacenterResourcesKey(localHost, bare));
      const hashes = (await execChecked(read, 'sweep')) as Record<string, string>[];
      const write = this.redis.commands.pipeline();
      batch.forEach(({ bare }, index) => {
        for (const [resource, holder] of Object.entries(hashes[index])) {
          if (holder === node || liveNodes.has(holder)) continue;
          write.hdel(datacenterResourcesKey(localHost, bare), resource);
          removed++;
        }
      });
      if (write.length > 0) await execChecked(write, 'sweep');
    }
    return removed;
  }

  /**
   * Graceful shutdown: no more registrations; removes every local key still ours. Returns
   * the JIDs and domains whose keys were considered, for invalidation notices.
   */
  async removeAll(): Promise<string[]> {
    this.stopped = true;
    await this.batchInFlight.catch(() => undefined);
    const fulls = this.local.bares().flatMap(({ sessions }) => sessions);
    const domains = this.local.domainList();
    // Cleared first: a bare JID is kept only for resources on other nodes, not on this one.
    this.local.clear();
    for (const batch of chunks(fulls, BATCH_SIZE)) await this.releaseSessions(batch);
    for (const batch of chunks(domains, BATCH_SIZE)) await this.releaseDomains(batch);
    const bares = new Set(fulls.map(bareString));
    return [...fulls.map(jidToString), ...bares, ...domains];
  }

  /** `fulls`: sessions of the bare JID `bare`. */
  private writeSessions(pipeline: ChainableCommander, bare: string, fulls: readonly Jid[]): void {
    const { localHost, node } = this.env;
    const expireAfterS = this.policy.redis.expireAfterS;
    const resourcesKey = datacenterResourcesKey(localHost, bare);
    for (const full of fulls)
      pipeline.set(sessionKey(jidToString(full)), localHost, 'EX', expireAfterS);
    pipeline
      .set(sessionKey(bare), localHost, 'EX', expireAfterS)
      .hset(resourcesKey, Object.fromEntries(fulls.map((full) => [full.resource, node])))
      .expire(resourcesKey, expireAfterS);
  }

  private writeDomains(pipeline: ChainableCommander, domains: readonly string[]): void {
    const { localHost, node } = this.env;
    const expireAfterS = this.policy.redis.expireAfterS;
    const domainsKey = nodeDomainsKey(localHost, node);
    for (const domain of domains) pipeline.set(sessionKey(domain), localHost, 'EX', expireAfterS);
    // The set expires too, so the entries of a node that dies with no peer to reap it go.
    pipeline.sadd(domainsKey, ...domains).expire(domainsKey, expireAfterS);
  }

  private async send(pipeline: ChainableCommander, operation: string): Promise<void> {
    if (pipeline.length === 0) return;
    const sent = execChecked(pipeline, operation);
    this.batchInFlight = sent;
    await sent;
  }

  /**
   * For each full JID: the full key goes if it still names this datacenter and no other node
   * of it took the resource over; the resource entry goes if it still names this node. The
   * bare key goes if it still names this datacenter and no live node here has a resource of
   * it left (another datacenter's resources rewrite it on their next refresh).
   */
  private async releaseSessions(fulls: readonly Jid[]): Promise<void> {
    const { localHost, node } = this.env;
    const liveNodes = await this.registry.liveNodesHere();
    const bares = [...new Set(fulls.map(bareString))];

    const read = this.redis.commands.pipeline();
    for (const full of fulls) {
      read
        .get(sessionKey(jidToString(full)))
        .hget(datacenterResourcesKey(localHost, bareString(full)), full.resource);
    }
    for (const bare of bares) read.get(sessionKey(bare));
    const held = (await execChecked(read, 'unregisterSession')) as (string | null)[];

    const write = this.redis.commands.pipeline();
    fulls.forEach((full, index) => {
      // Registered again while this ran: the new session owns the keys.
      if (this.local.hasSession(full)) return;
      const [fullValue, holder] = [held[2 * index], held[2 * index + 1]];
      const resourcesKey = datacenterResourcesKey(localHost, bareString(full));
      if (holder === node) write.hdel(resourcesKey, full.resource);
      if (fullValue === localHost && (holder === node || holder === null)) {
        write.del(sessionKey(jidToString(full)));
      }
    });
    const bareCandidates = bares.filter(
      (bare, index) => held[2 * fulls.length + index] === localHost && !this.local.hasBare(bare),
    );
    const firstHash = write.length;
    for (const bare of bareCandidates) write.hgetall(datacenterResourcesKey(localHost, bare));
    if (write.length === 0) return;
    const written = await execChecked(write, 'unregisterSession');

    const deletable = bareCandidates.filter((_, index) => {
      const remaining = Object.values(written[firstHash + index] as Record<string, string>);
      return !remaining.some((holder) => holder !== node && liveNodes.has(holder));
    });
    if (deletable.length === 0) return;
    const remove = this.redis.commands.pipeline();
    for (const bare of deletable) remove.del(sessionKey(bare));
    await execChecked(remove, 'unregisterSession');
  }

  /** A domain key goes if it still names this datacenter and no other live node here serves it. */
  private async releaseDomains(domains: readonly string[]): Promise<void> {
    const { localHost, node } = this.env;
    const others = [...(await this.registry.liveNodesHere())].filter((other) => other !== node);
    const read = this.redis.commands.pipeline();
    read.srem(nodeDomainsKey(localHost, node), ...domains);
    for (const domain of domains) {
      read.get(sessionKey(domain));
      for (const other of others) read.sismember(nodeDomainsKey(localHost, other), domain);
    }
    const replies = await execChecked(read, 'unregisterComponentDomain');
    const stride = 1 + others.length;
    const deletable = domains.filter((domain, index) => {
      const at = 1 + index * stride;
      return (
        !this.local.hasDomain(domain) &&
        replies[at] === localHost &&
        replies.slice(at + 1, at + stride).every((member) => member === 0)
      );
    });
    if (deletable.length === 0) return;
    const remove = this.redis.commands.pipeline();
    for (const domain of deletable) remove.del(sessionKey(domain));
    await execChecked(remove, 'unregisterComponentDomain');
  }
}

/** Batches of whole bare JIDs holding about BATCH_SIZE sessions each. */
function batchBySessions<T extends { sessions: readonly unknown[] }>(bares: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let sessions = 0;
  for (const bare of bares) {
    current.push(bare);
    sessions += bare.sessions.length;
    if (sessions >= BATCH_SIZE) {
      batches.push(current);
      current = [];
      sessions = 0;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
