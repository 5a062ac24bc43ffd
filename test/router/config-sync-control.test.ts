// End to end with a real control plane on the same Redis: what an operator does through the
// REST API reaches the router, and the router's ACK/NACK shows in GET /v1/routers.
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouter } from '../../apps/router/src/boot/start-router';
import { RouterConfig } from '../../apps/router/src/config-sync';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';
import { leaseRedisDatabase } from '../support/redis';
import { LOCAL_HOST, routerEnv, until } from './config-sync-support';

let control: ControlHarness;
let router: INestApplication;
let config: RouterConfig;

interface RouterView {
  node: string;
  revision: number;
  domainSeq: number;
  status: string;
  synced: boolean;
}

async function routerView(): Promise<RouterView | undefined> {
  const response = await control.http.get('/v1/routers').set(admin);
  return (response.body.routers as RouterView[] | undefined)?.find((r) => r.node === 'sync-test');
}

beforeAll(async () => {
  // One Redis for both: control writes it, the router reads it (released by control.close()).
  const redis = await leaseRedisDatabase();
  control = await startControl('router_config_sync', { redis });
  expect((await control.http.put('/v1/config').set(admin).send(BASE_CONFIG)).status).toBe(200);
  await control.publisher.flush();
  router = await startRouter(routerEnv(redis.url));
  config = router.get(RouterConfig);
});

afterAll(async () => {
  await router?.close();
  await control?.close();
});

describe('router and control together', () => {
  it('boots on the revision control pushed and reports it', async () => {
    expect(config.snapshot.revision).toBe(1);
    expect(config.snapshot.config.datacenters.map((dc) => dc.localHost)).toContain(LOCAL_HOST);
    await until(async () => (await routerView())?.synced === true, 5_000, 'synced');
  });

  it('applies a settings change and a new domain, and control shows both', async () => {
    await control.http
      .put('/v1/settings')
      .set(admin)
      .send({ globalHost: 'example.com', messageTtl: 6 });
    expect(
      (
        await control.http
          .put('/v1/domains/tenant.example.net')
          .set(admin)
          .send({ hostType: 'default' })
      ).status,
    ).toBe(201);
    await until(() => config.snapshot.config.messageTtl === 6, 3_000, 'settings');
    await until(() => config.isServedDomain('tenant.example.net'), 3_000, 'domain');
    await control.http.patch('/v1/domains/tenant.example.net').set(admin).send({ enabled: false });
    await until(() => !config.isServedDomain('tenant.example.net'), 3_000, 'disabled');
    await until(
      async () => {
        const view = await routerView();
        return view?.revision === 2 && view.domainSeq === config.snapshot.domainSeq && view.synced;
      },
      5_000,
      'reported',
    );
  });

  it('accepts a component under a dynamic domain created just before it', async () => {
    await control.http
      .put('/v1/domains/rooms.example.net')
      .set(admin)
      .send({ hostType: 'default' });
    const response = await control.http
      .put('/v1/components/muc.rooms.example.net')
      .set(admin)
      .send({ secret: 'component-secret-0123456789' });
    expect(response.status).toBeLessThan(300);
    await until(
      () => config.snapshot.config.components.some((c) => c.domain === 'muc.rooms.example.net'),
      3_000,
      'component',
    );
    expect((await routerView())?.status).toBe('ack');
  });
});
