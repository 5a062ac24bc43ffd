// Routing between sessions on different datacenters and nodes (ARCHITECTURE §6), with real
// routers on loopback sharing a private Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ [DC1]: ['n1', 'n2'], [DC2]: ['n1'] });
});
afterAll(async () => {
  await cluster?.close();
});

describe('routing between sessions', () => {
  it('delivers between datacenters both ways', async () => {
    const alice = await cluster.node(DC1, 'n1').login('alice@example.com/phone');
    const bob = await cluster.node(DC2).login('bob@example.com/laptop');
    await cluster.node(DC1, 'n1').send(alice, 'bob@example.com/laptop', 'hi bob');
    await bob.waitFor(1);
    expect(bob.bodies()).toEqual(['hi bob']);
    expect(bob.received[0]!.attrs.from).toBe('alice@example.com/phone');
    await cluster.node(DC2).send(bob, 'alice@example.com/phone', 'hi alice');
    await alice.waitFor(1);
    expect(alice.bodies()).toEqual(['hi alice']);
  });

  it('delivers to a bare JID whose resources are on either node of a datacenter', async () => {
    // The datacenter's node that receives it (picked by the sender) may not hold the
    // resources: it finds their node in the datacenter's resource hash and forwards.
    for (const node of ['n1', 'n2']) {
      const owner = await cluster.node(DC1, node).login(`bare-${node}@example.com/r`);
      const senders = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const sender of senders) {
        await cluster.node(DC2).send(`${sender}@example.com/s`, `bare-${node}@example.com`, sender);
      }
      await owner.waitFor(senders.length);
      expect(owner.bodies().sort()).toEqual(senders);
    }
  });

  it('delivers between two nodes of one datacenter', async () => {
    const carol = await cluster.node(DC1, 'n1').login('carol@example.com/a');
    const dave = await cluster.node(DC1, 'n2').login('dave@example.com/b');
    await cluster.node(DC1, 'n1').send(carol, 'dave@example.com/b', 'same dc');
    await dave.waitFor(1);
    await cluster.node(DC1, 'n2').send(dave, 'carol@example.com/a', 'and back');
    await carol.waitFor(1);
    expect(dave.bodies()).toEqual(['same dc']);
    expect(carol.bodies()).toEqual(['and back']);
  });
});
