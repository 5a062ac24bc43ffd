// Dynamic domains: MongooseIM-5-shaped routes, and the gap-free event stream behind them.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishedDomainEvent } from '#redis-keys';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';

let control: ControlHarness;

beforeAll(async () => {
  control = await startControl('domains');
  await control.http
    .put('/v1/config')
    .set(admin)
    .send({
      ...BASE_CONFIG,
      hostTypes: [{ name: 'default' }, { name: 'tenant' }],
      components: [{ domain: 'muc.example.com', secret: 'component-secret' }],
    });
});
afterAll(async () => {
  await control?.close();
});

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('domain routes', () => {
  it('creates (201), refuses a duplicate (409) and an unknown host type (422)', async () => {
    const created = await control.http
      .put('/v1/domains/Alpha.Test')
      .set(admin)
      .send({ hostType: 'tenant' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ domain: 'alpha.test', hostType: 'tenant', enabled: true });
    const duplicate = await control.http
      .put('/v1/domains/alpha.test')
      .set(admin)
      .send({ hostType: 'tenant' });
    expect(duplicate.status).toBe(409);
    const unknown = await control.http
      .put('/v1/domains/beta.test')
      .set(admin)
      .send({ hostType: 'nope' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.message).toBe('host type "nope" does not exist');
  });

  it('validates names and bodies (400) and refuses static names (409)', async () => {
    expect(
      (await control.http.put('/v1/domains/bad_name!').set(admin).send({ hostType: 'default' }))
        .status,
    ).toBe(400);
    const missing = await control.http.put('/v1/domains/gamma.test').set(admin).send({});
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('hostType');
    const extra = await control.http
      .put('/v1/domains/gamma.test')
      .set(admin)
      .send({ hostType: 'default', x: 1 });
    expect(extra.status).toBe(400);
    for (const name of ['example.com', 'dc1.example.com', 'muc.example.com']) {
      expect(
        (await control.http.put(`/v1/domains/${name}`).set(admin).send({ hostType: 'default' }))
          .status,
      ).toBe(409);
    }
  });

  it('reads, disables, enables and deletes a domain', async () => {
    expect((await control.http.get('/v1/domains/alpha.test').set(admin)).body.enabled).toBe(true);
    const disabled = await control.http
      .patch('/v1/domains/alpha.test')
      .set(admin)
      .send({ enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ domain: 'alpha.test', hostType: 'tenant', enabled: false });
    expect(
      (await control.http.patch('/v1/domains/alpha.test').set(admin).send({ enabled: 'no' }))
        .status,
    ).toBe(400);
    expect(
      (await control.http.patch('/v1/domains/nowhere.test').set(admin).send({ enabled: true }))
        .status,
    ).toBe(404);
    expect((await control.http.delete('/v1/domains/alpha.test').set(admin)).status).toBe(204);
    expect((await control.http.delete('/v1/domains/alpha.test').set(admin)).status).toBe(404);
    expect((await control.http.get('/v1/domains/alpha.test').set(admin)).status).toBe(404);
  });

  it('lists with filters and pages', async () => {
    for (const name of ['d1', 'd2', 'd3', 'd4']) {
      await control.http
        .put(`/v1/domains/${name}.test`)
        .set(admin)
        .send({ hostType: name === 'd4' ? 'tenant' : 'default' });
    }
    await control.http.patch('/v1/domains/d2.test').set(admin).send({ enabled: false });
    const page1 = (await control.http.get('/v1/domains?limit=2').set(admin)).body;
    expect(page1.domains.map((d: { domain: string }) => d.domain)).toEqual(['d1.test', 'd2.test']);
    const page2 = (await control.http.get(`/v1/domains?limit=2&after=${page1.next}`).set(admin))
      .body;
    expect(page2.domains.map((d: { domain: string }) => d.domain)).toEqual(['d3.test', 'd4.test']);
    expect(page2.next).toBeNull();
    const tenants = (await control.http.get('/v1/domains?hostType=tenant').set(admin)).body.domains;
    expect(tenants.map((d: { domain: string }) => d.domain)).toEqual(['d4.test']);
    const disabled = (await control.http.get('/v1/domains?enabled=false').set(admin)).body.domains;
    expect(disabled.map((d: { domain: string }) => d.domain)).toEqual(['d2.test']);
    expect((await control.http.get('/v1/domains?limit=5000').set(admin)).status).toBe(400);
  });

  it('refuses revision options (dryRun, If-Match) on domain changes', async () => {
    const dry = await control.http
      .put('/v1/domains/dry.test?dryRun=true')
      .set(admin)
      .send({ hostType: 'default' });
    expect(dry.status).toBe(400);
    const ifMatch = await control.http
      .delete('/v1/domains/d1.test')
      .set(admin)
      .set('If-Match', '"1"');
    expect(ifMatch.status).toBe(400);
    expect((await control.http.get('/v1/domains/dry.test').set(admin)).status).toBe(404);
  });

  it('does not create revisions', async () => {
    const revisions = (await control.http.get('/v1/revisions').set(admin)).body.revisions;
    expect(revisions).toHaveLength(1);
  });
});

describe('domain event stream', () => {
  it('mirrors the current set, the recent events and the seq in Redis', async () => {
    await control.publisher.flush();
    const redis = control.redis.client;
    expect(await redis.hgetall('meridian:domains')).toEqual({
      'd1.test': 'default|1',
      'd2.test': 'default|0',
      'd3.test': 'default|1',
      'd4.test': 'tenant|1',
    });
    const events = (await redis.lrange('meridian:domains:events', 0, -1)).map(
      (e) => JSON.parse(e) as PublishedDomainEvent,
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.slice(0, 3).map((e) => [e.op, e.domain])).toEqual([
      ['upsert', 'alpha.test'],
      ['upsert', 'alpha.test'],
      ['delete', 'alpha.test'],
    ]);
    expect(Number(await redis.get('meridian:domains:seq'))).toBe(events.length);
  });

  it('keeps 10,000 concurrent creations in order with no gap, each published with its seq', async () => {
    const subscriber = new Redis(control.redis.url);
    const published: number[] = [];
    await subscriber.subscribe('meridian:domains');
    subscriber.on('message', (_channel, message) =>
      published.push((JSON.parse(message) as PublishedDomainEvent).seq),
    );
    const startSeq = Number(await control.redis.client.get('meridian:domains:seq'));

    const total = 10_000;
    const concurrency = 16;
    let next = 0;
    const failures: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const response = await control.http
            .put(`/v1/domains/bulk-${i}.test`)
            .set(admin)
            .send({ hostType: 'tenant' });
          if (response.status !== 201) failures.push(response.status);
        }
      }),
    );
    expect(failures).toEqual([]);

    await until(
      async () =>
        Number(await control.redis.client.get('meridian:domains:seq')) === startSeq + total,
    );
    await until(async () => published.length >= total);
    subscriber.disconnect();
    expect(published).toEqual(Array.from({ length: total }, (_, i) => startSeq + i + 1));

    const { Client } = await import('pg');
    const client = new Client({ connectionString: control.database.url });
    await client.connect();
    const { rows } = await client.query(
      'SELECT min(seq)::int AS min, max(seq)::int AS max, count(*)::int AS n, (SELECT pushed_seq::int FROM domain_sequence) AS pushed FROM domain_events',
    );
    await client.end();
    expect(rows[0]).toEqual({
      min: 1,
      max: startSeq + total,
      n: startSeq + total,
      pushed: startSeq + total,
    });
    expect(await control.redis.client.hlen('meridian:domains')).toBe(4 + total);
    const kept = await control.redis.client.llen('meridian:domains:events');
    expect(kept).toBe(10_000);
  }, 180_000);
});
