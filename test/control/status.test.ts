// GET /v1/routers and GET /v1/topology read what routers write about themselves in Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouterStatusRecord } from '#redis-keys';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';

let control: ControlHarness;

beforeAll(async () => {
  control = await startControl('status', { env: { ROUTER_STALE_AFTER_S: '10' } });
  await control.http.put('/v1/config').set(admin).send(BASE_CONFIG);
  await control.http
    .put('/v1/config')
    .set(admin)
    .send({ ...BASE_CONFIG, messageTtl: 5 });
});
afterAll(async () => {
  await control?.close();
});

function record(overrides: Partial<RouterStatusRecord>): RouterStatusRecord {
  const now = new Date().toISOString();
  return {
    node: 'n1',
    localHost: 'dc1.example.com',
    revision: 2,
    domainSeq: 0,
    status: 'ack',
    startedAt: now,
    heartbeatAt: now,
    ...overrides,
  };
}

async function report(status: RouterStatusRecord): Promise<void> {
  await control.redis.client.set(
    `meridian:router:${status.localHost}:${status.node}`,
    JSON.stringify(status),
    'EX',
    60,
  );
}

describe('GET /v1/routers', () => {
  it('reports each router, acks and nacks, stale ones, and how many run each revision', async () => {
    await report(record({ node: 'n1', sessions: 3 }));
    await report(record({ node: 'n2', revision: 1 }));
    await report(
      record({
        node: 'n1',
        localHost: 'dc2.example.com',
        revision: 1,
        status: 'nack',
        rejectedRevision: 2,
        error: 'invalid configuration',
        errors: [{ path: 'bounce.maxRetries', message: 'too big' }],
      }),
    );
    await report(
      record({
        node: 'old',
        localHost: 'dc2.example.com',
        heartbeatAt: new Date(Date.now() - 60_000).toISOString(),
      }),
    );
    await control.redis.client.set('meridian:router:dc2.example.com:garbage', 'not json');

    const response = await control.http.get('/v1/routers').set(admin);
    expect(response.status).toBe(200);
    expect(response.body.latestRevision).toBe(2);
    expect(
      response.body.routers.map(
        (r: { localHost: string; node: string; synced: boolean; stale: boolean }) => [
          r.localHost,
          r.node,
          r.synced,
          r.stale,
        ],
      ),
    ).toEqual([
      ['dc1.example.com', 'n1', true, false],
      ['dc1.example.com', 'n2', false, false],
      ['dc2.example.com', 'n1', false, false],
      ['dc2.example.com', 'old', false, true],
    ]);
    const nacked = response.body.routers[2];
    expect(nacked).toMatchObject({
      status: 'nack',
      revision: 1,
      rejectedRevision: 2,
      errors: [{ path: 'bounce.maxRetries', message: 'too big' }],
    });
    expect(response.body.routers[0].sessions).toBe(3);
    expect(response.body.revisions).toEqual([
      { revision: 2, routers: 1 },
      { revision: 1, routers: 2 },
    ]);
  });
});

describe('GET /v1/topology', () => {
  it('shows datacenters, their nodes with liveness and endpoints', async () => {
    const redis = control.redis.client;
    await redis.sadd('hosts', 'dc1.example.com', 'dc3.example.com');
    await redis.sadd('dc1.example.com#{nodes}', 'n1', 'n2');
    await redis.set('dc1.example.com#n1#{heartbeat}', '1', 'EX', 60);
    await redis.sadd('dc1.example.com#n1#{endpoints}', '10.0.0.1#5555', '10.0.0.2#5555');
    const response = await control.http.get('/v1/topology').set(admin);
    expect(response.status).toBe(200);
    expect(response.body.datacenters).toEqual([
      {
        localHost: 'dc1.example.com',
        region: null,
        inConfig: true,
        nodes: [
          { node: 'n1', alive: true, endpoints: ['10.0.0.1#5555', '10.0.0.2#5555'], sessions: 3 },
          { node: 'n2', alive: false, endpoints: [], sessions: null },
        ],
      },
      { localHost: 'dc2.example.com', region: null, inConfig: true, nodes: [] },
      { localHost: 'dc3.example.com', region: null, inConfig: false, nodes: [] },
    ]);
  });
});
