// The default endpoint source reads the seed's layout in a real Redis: the nodes set, the
// heartbeat keys (dead nodes left out) and each node's `ip#port` endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEndpointsKey, nodeHeartbeatKey, nodesKey } from '#redis-keys';
import { RedisEndpointSource } from '../../apps/router/src/interlink';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';
import { envelope, startNode, waitFor, type TestNode } from './interlink-harness';

const DC2 = 'dc2.example.com';
let redis: TestRedis;
let source: RedisEndpointSource;

beforeAll(async () => {
  redis = await leaseRedisDatabase();
  source = new RedisEndpointSource({ client: redis.client });
});

afterAll(async () => {
  await redis?.release();
});

async function publishNode(localHost: string, node: string, endpoints: string[], alive = true) {
  await redis.client.sadd(nodesKey(localHost), node);
  if (endpoints.length > 0)
    await redis.client.sadd(nodeEndpointsKey(localHost, node), ...endpoints);
  if (alive) await redis.client.set(nodeHeartbeatKey(localHost, node), '1', 'EX', 60);
}

describe('RedisEndpointSource', () => {
  it('lists the endpoints of the live nodes of a datacenter', async () => {
    await publishNode('dc5.example.com', 'n1', ['10.0.0.1#5555', '10.0.0.1#5556']);
    await publishNode('dc5.example.com', 'n2', ['10.0.0.2#5555', 'garbage']);
    await publishNode('dc5.example.com', 'dead', ['10.0.0.3#5555'], false);
    expect(await source.endpointsOf('dc5.example.com')).toEqual([
      { node: 'n1', host: '10.0.0.1', port: 5555 },
      { node: 'n1', host: '10.0.0.1', port: 5556 },
      { node: 'n2', host: '10.0.0.2', port: 5555 },
    ]);
    expect(await source.endpointsOfNode('dc5.example.com', 'n2')).toEqual([
      { host: '10.0.0.2', port: 5555 },
    ]);
    expect(await source.endpointsOfNode('dc5.example.com', 'dead')).toEqual([]);
    expect(await source.endpointsOf('nowhere.example.com')).toEqual([]);
  });

  it('is what a node dials by default', async () => {
    let b: TestNode | undefined;
    let a: TestNode | undefined;
    try {
      b = await startNode({ localHost: DC2, node: 'b' });
      await publishNode(DC2, 'b', [`127.0.0.1#${b.address.port}`]);
      a = await startNode({ localHost: 'dc1.example.com', node: 'a', source });
      await a.service.send({ localHost: DC2 }, envelope('r@x', 0));
      await waitFor(() => b!.received.length === 1, 'the frame');
    } finally {
      await a?.close();
      await b?.close();
    }
  });
});
