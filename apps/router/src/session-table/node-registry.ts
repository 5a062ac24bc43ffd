// Which router nodes a datacenter has, whether they are alive, and where they listen
// (ARCHITECTURE §5): `hosts`, `<localHost>#{nodes}`, and per node a heartbeat key and an
// endpoints set. Liveness is the heartbeat key (`EX expireAfterS`, rewritten every refresh):
// set members cannot expire and Dynomite forbids Lua, so the nodes of a datacenter remove
// those whose heartbeat is gone (reapDeadNodes, run by the refresher).
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { MeridianConfigDocument } from '#config';
import {
  decodeEndpoint,
  encodeEndpoint,
  HOSTS_KEY,
  nodeDomainsKey,
  nodeEndpointsKey,
  nodeHeartbeatKey,
  nodesKey,
} from '#redis-keys';
import { ROUTER_ENV, RouterEnv } from '../env/router-env';
import { checked, execChecked } from './redis-replies';
import { SessionTablePolicy } from './session-table-policy';
import { SessionTableRedis } from './session-table-redis';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface NodeEndpoint extends Endpoint {
  readonly node: string;
}

/** How long the live-node set of this datacenter is reused (nodeOf asks it per stanza). */
export const LIVE_NODES_CACHE_MS = 1_000;

@Injectable()
export class NodeRegistry implements OnApplicationBootstrap {
  private readonly logger = new Logger(NodeRegistry.name);
  private liveHere: { nodes: ReadonlySet<string>; readAt: number } | null = null;
  private liveHereRead: Promise<ReadonlySet<string>> | null = null;
  private stopped = false;

  constructor(
    private readonly redis: SessionTableRedis,
    @Inject(ROUTER_ENV) private readonly env: RouterEnv,
    private readonly policy: SessionTablePolicy,
  ) {}

  /** Takes the revision's redis.* (and cache.*) for the whole session-table module. */
  applyConfig(config: MeridianConfigDocument): void {
    this.policy.apply(config);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.register();
    this.logger.log(
      `Node ${this.env.node} registered in ${this.env.localHost} at ` +
        encodeEndpoint(this.env.interlinkAdvertise.host, this.env.interlinkAdvertise.port),
    );
  }

  /** Endpoints of the live nodes of a datacenter (nodes without a heartbeat are left out). */
  async endpointsOf(localHost: string): Promise<NodeEndpoint[]> {
    const nodes = await this.liveNodes(localHost);
    if (nodes.length === 0) return [];
    const pipeline = this.redis.commands.pipeline();
    for (const node of nodes) pipeline.smembers(nodeEndpointsKey(localHost, node));
    const replies = await execChecked(pipeline, 'endpointsOf');
    return nodes.flatMap((node, index) =>
      decodeEndpoints(replies[index] as string[]).map((endpoint) => ({ node, ...endpoint })),
    );
  }

  /** Endpoints of one node, or none if it has no heartbeat. */
  async endpointsOfNode(localHost: string, node: string): Promise<Endpoint[]> {
    const [alive, members] = await execChecked(
      this.redis.commands
        .pipeline()
        .exists(nodeHeartbeatKey(localHost, node))
        .smembers(nodeEndpointsKey(localHost, node)),
      'endpointsOfNode',
    );
    return alive === 1 ? decodeEndpoints(members as string[]) : [];
  }

  /** Nodes of a datacenter listed in `{nodes}` whose heartbeat key exists, sorted. */
  async liveNodes(localHost: string): Promise<string[]> {
    const listed = await checked(this.redis.commands.smembers(nodesKey(localHost)), 'liveNodes');
    if (listed.length === 0) return [];
    const alive = await this.heartbeatsOf(localHost, listed);
    return listed.filter((_, index) => alive[index]).sort();
  }

  /**
   * Live nodes of this datacenter, this one always included, read at most every
   * LIVE_NODES_CACHE_MS. While Redis is down the last set read is reused (routing to a
   * cached node beats failing); with none, it rejects.
   */
  async liveNodesHere(): Promise<ReadonlySet<string>> {
    const cached = this.liveHere;
    if (cached && performance.now() - cached.readAt < LIVE_NODES_CACHE_MS) return cached.nodes;
    // One read at a time, however many stanzas ask.
    this.liveHereRead ??= this.liveNodes(this.env.localHost)
      .then((nodes) => {
        const set = new Set([...nodes, this.env.node]);
        this.liveHere = { nodes: set, readAt: performance.now() };
        return set;
      })
      .catch((err: unknown) => {
        if (cached) return cached.nodes;
        throw err;
      })
      .finally(() => {
        this.liveHereRead = null;
      });
    return this.liveHereRead;
  }

  /**
   * Writes (or rewrites) this node's entries: in `hosts` and `{nodes}`, its heartbeat and its
   * endpoints. Run at start and on every refresh, so a node removed while it was unreachable
   * comes back by itself.
   */
  async register(): Promise<void> {
    if (this.stopped) return;
    const { localHost, node, interlinkAdvertise } = this.env;
    const expireAfterS = this.policy.redis.expireAfterS;
    const endpoints = nodeEndpointsKey(localHost, node);
    await execChecked(
      this.redis.commands
        .pipeline()
        .sadd(HOSTS_KEY, localHost)
        .sadd(nodesKey(localHost), node)
        .set(nodeHeartbeatKey(localHost, node), String(Date.now()), 'EX', expireAfterS)
        .sadd(endpoints, encodeEndpoint(interlinkAdvertise.host, interlinkAdvertise.port))
        .expire(endpoints, expireAfterS),
      'node registration',
    );
  }

  /**
   * Removes the nodes of this datacenter whose heartbeat is gone: from `{nodes}`, with their
   * endpoints and domains sets. Their JID keys are left to expire. Returns the nodes removed.
   */
  async reapDeadNodes(): Promise<string[]> {
    const { localHost, node: self } = this.env;
    const members = await checked(this.redis.commands.smembers(nodesKey(localHost)), 'reap');
    const listed = members.filter((node) => node !== self);
    if (listed.length === 0) return [];
    const alive = await this.heartbeatsOf(localHost, listed);
    const dead = listed.filter((_, index) => !alive[index]);
    if (dead.length === 0) return [];
    const pipeline = this.redis.commands.pipeline();
    for (const node of dead) {
      pipeline
        .srem(nodesKey(localHost), node)
        .del(nodeEndpointsKey(localHost, node))
        .del(nodeDomainsKey(localHost, node));
    }
    await execChecked(pipeline, 'reap');
    this.liveHere = null;
    this.logger.warn(`Removed dead nodes of ${localHost} (heartbeat expired): ${dead.join(', ')}`);
    return dead;
  }

  /** Graceful shutdown: this node leaves `{nodes}` with its heartbeat, endpoints and domains. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { localHost, node } = this.env;
    await execChecked(
      this.redis.commands
        .pipeline()
        .srem(nodesKey(localHost), node)
        .del(nodeHeartbeatKey(localHost, node))
        .del(nodeEndpointsKey(localHost, node))
        .del(nodeDomainsKey(localHost, node)),
      'node removal',
    );
    this.logger.log(`Node ${node} removed from ${localHost}`);
  }

  private async heartbeatsOf(localHost: string, nodes: readonly string[]): Promise<boolean[]> {
    const pipeline = this.redis.commands.pipeline();
    for (const node of nodes) pipeline.exists(nodeHeartbeatKey(localHost, node));
    const replies = await execChecked(pipeline, 'heartbeats');
    return replies.map((reply) => reply === 1);
  }
}

function decodeEndpoints(members: readonly string[]): Endpoint[] {
  return members
    .map(decodeEndpoint)
    .filter((endpoint): endpoint is Endpoint => endpoint !== null)
    .sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
}
