// Control and two datacenters of routers on one Redis: a revision reaches every router and
// GET /v1/routers shows it; a revision a router must refuse is NACKed there without taking
// it down; 10,000 domains created through the REST API are all served by every router.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouterConfig } from '../../apps/router/src/config-sync/router-config';
import { admin, startControl, type ControlHarness } from '../support/control-app';
import { leaseRedisDatabase } from '../support/redis';
import { startCluster, until, type Cluster } from '../support/router-cluster';

const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
let control: ControlHarness;
let cluster: Cluster;

interface RouterRow {
  localHost: string;
  node: string;
  revision: number;
  domainSeq: number;
  status: 'ack' | 'nack';
  rejectedRevision: number | null;
  error: string | null;
  synced: boolean;
}

const rows = async (): Promise<RouterRow[]> =>
  (await control.http.get('/v1/routers').set(admin)).body.routers;

beforeAll(async () => {
  const redis = await leaseRedisDatabase();
  control = await startControl('rollout', { redis });
  const put = await control.http
    .put('/v1/config')
    .set(admin)
    .send({
      globalHost: 'example.com',
      datacenters: [{ localHost: DC1 }, { localHost: DC2 }],
      connections: { tls: { enabled: false } },
    });
  expect(put.status).toBe(200);
  await control.publisher.flush();
  cluster = await startCluster({ [DC1]: ['n1', 'n2'], [DC2]: ['n1'] }, () => undefined, {
    redis,
    configured: true,
  });
});
afterAll(async () => {
  // The cluster shares control's Redis: stop the routers first, then control releases it.
  await Promise.all(cluster.nodes.splice(0).map((n) => n.close()));
  await control?.close();
});

describe('rollout', () => {
  it('shows every router acknowledging the current revision', async () => {
    await until(
      async () => (await rows()).filter((r) => r.synced).length === 3,
      10_000,
      'three routers synced',
    );
    const status = (await control.http.get('/v1/routers').set(admin)).body;
    expect(status.latestRevision).toBe(1);
    expect(status.revisions).toEqual([{ revision: 1, routers: 3 }]);
  });

  it('reaches every router within a second', async () => {
    const started = Date.now();
    const put = await control.http
      .put('/v1/bounce')
      .set(admin)
      .send({ enabled: true, resendAfterMs: 150, maxRetries: 3 });
    expect(put.status).toBe(200);
    await until(
      () =>
        cluster.nodes.every(
          (n) => n.app.get(RouterConfig).snapshot.config.bounce.resendAfterMs === 150,
        ),
      5000,
      'bounce applied',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('NACKs a revision that drops a router datacenter, keeps routing, and control shows it', async () => {
    const removed = await control.http.delete(`/v1/datacenters/${DC2}`).set(admin);
    expect(removed.status).toBe(204);
    const revision = Number(removed.headers.etag.replace(/"/g, ''));
    await until(
      async () => (await rows()).some((r) => r.localHost === DC2 && r.status === 'nack'),
      10_000,
      'nack shown',
    );
    const dc2 = (await rows()).find((r) => r.localHost === DC2)!;
    expect(dc2).toMatchObject({
      status: 'nack',
      rejectedRevision: revision,
      revision: revision - 1,
      synced: false,
    });
    expect(dc2.error).toMatch(/dc2\.example\.com/);
    const dc1 = (await rows()).filter((r) => r.localHost === DC1);
    expect(dc1.every((r) => r.status === 'ack' && r.revision === revision)).toBe(true);

    // dc2 still routes on its previous revision.
    const alice = await cluster.node(DC2).login('alice@example.com/a');
    const bob = await cluster.node(DC2).login('bob@example.com/b');
    await cluster.node(DC2).send(alice, 'bob@example.com/b', 'still here');
    await bob.waitFor(1);

    // Putting the datacenter back is acknowledged everywhere again.
    expect((await control.http.put(`/v1/datacenters/${DC2}`).set(admin).send({})).status).toBe(201);
    await until(async () => (await rows()).every((r) => r.synced), 10_000, 'all synced again');
  });

  it('serves 10,000 domains created through the API on every router, none missed', async () => {
    const total = 10_000;
    let next = 0;
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          const response = await control.http
            .put(`/v1/domains/tenant-${i}.test`)
            .set(admin)
            .send({ hostType: 'default' });
          if (response.status !== 201) failures.push(response.status);
        }
      }),
    );
    expect(failures).toEqual([]);
    await until(
      () => cluster.nodes.every((n) => n.app.get(RouterConfig).snapshot.domainSeq === total),
      20_000,
      'every router at domain seq 10000',
    );
    for (const node of cluster.nodes) {
      const config = node.app.get(RouterConfig);
      const missing = Array.from({ length: total }, (_, i) => `tenant-${i}.test`).filter(
        (d) => !config.isServedDomain(d),
      );
      expect(missing).toEqual([]);
    }
    await until(
      async () => (await rows()).every((r) => r.domainSeq === total),
      10_000,
      'control shows the seq',
    );
  }, 120_000);
});
