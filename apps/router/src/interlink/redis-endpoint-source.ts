// Endpoints from the seed's Redis layout (ARCHITECTURE §5): `<localHost>#{nodes}` lists the
// nodes, `<localHost>#<node>#{heartbeat}` exists while a node is alive, and
// `<localHost>#<node>#{endpoints}` holds its `ip#port` members. Single-key commands in a
// pipeline only, so it runs on Redis, Redis Cluster and Dynomite alike.
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { nodeEndpointsKey, nodeHeartbeatKey, nodesKey } from '#redis-keys';
import { RedisConnection } from '../redis/redis-connection';
import type { EndpointSource, NodeEndpoint, RemoteEndpoint } from './endpoint-source';

@Injectable()
export class RedisEndpointSource implements EndpointSource {
  constructor(@Inject(RedisConnection) private readonly redis: { readonly client: Redis }) {}

  async endpointsOf(localHost: string): Promise<RemoteEndpoint[]> {
    const nodes = (await this.redis.client.smembers(nodesKey(localHost))).sort();
    if (nodes.length === 0) return [];
    const pipeline = this.redis.client.pipeline();
    for (const node of nodes) {
      pipeline.exists(nodeHeartbeatKey(localHost, node));
      pipeline.smembers(nodeEndpointsKey(localHost, node));
    }
    const replies = (await pipeline.exec()) ?? [];
    const endpoints: RemoteEndpoint[] = [];
    nodes.forEach((node, index) => {
      const [aliveError, alive] = replies[index * 2] ?? [];
      const [membersError, members] = replies[index * 2 + 1] ?? [];
      if (aliveError) throw aliveError;
      if (membersError) throw membersError;
      if (alive !== 1) return;
      for (const endpoint of parseEndpoints(members as string[]))
        endpoints.push({ node, ...endpoint });
    });
    return endpoints;
  }

  async endpointsOfNode(localHost: string, node: string): Promise<NodeEndpoint[]> {
    const [[aliveError, alive], [membersError, members]] = ((await this.redis.client
      .pipeline()
      .exists(nodeHeartbeatKey(localHost, node))
      .smembers(nodeEndpointsKey(localHost, node))
      .exec()) ?? []) as [Error | null, unknown][];
    if (aliveError) throw aliveError;
    if (membersError) throw membersError;
    return alive === 1 ? parseEndpoints(members as string[]) : [];
  }
}

/** `ip#port` members, sorted; the last '#' splits (an IPv6 address has none). Bad ones skipped. */
export function parseEndpoints(members: readonly string[]): NodeEndpoint[] {
  const endpoints: NodeEndpoint[] = [];
  for (const member of [...members].sort()) {
    const hash = member.lastIndexOf('#');
    const port = Number(member.slice(hash + 1));
    if (hash <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    endpoints.push({ host: member.slice(0, hash), port });
  }
  return endpoints;
}
