import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  BASE_CONFIG,
  readOnly,
  startControl,
  type ControlHarness,
} from '../support/control-app';

const JWT_SECRET = 'a-very-long-hs256-secret-of-32-chars!!';

let control: ControlHarness;

beforeAll(async () => {
  control = await startControl('config_api');
});
afterAll(async () => {
  await control?.close();
});

describe('before the first revision', () => {
  it('reads answer 404 and resource writes 409 with a clear message', async () => {
    const read = await control.http.get('/v1/config').set(admin);
    expect(read.status).toBe(404);
    expect(read.body.message).toMatch(/no configuration exists yet/);

    const write = await control.http.put('/v1/datacenters/dc1.example.com').set(admin).send({});
    expect(write.status).toBe(409);
    expect(write.body.message).toMatch(/PUT \/v1\/config or PUT \/v1\/settings/);

    const domain = await control.http
      .put('/v1/domains/a.test')
      .set(admin)
      .send({ hostType: 'default' });
    expect(domain.status).toBe(409);
  });
});

describe('auth', () => {
  it('refuses requests without a token or with a wrong one (401)', async () => {
    expect((await control.http.get('/v1/config')).status).toBe(401);
    expect(
      (await control.http.get('/v1/config').set({ Authorization: 'Bearer nope' })).status,
    ).toBe(401);
    expect((await control.http.get('/v1/config').set({ Authorization: 'Basic abc' })).status).toBe(
      401,
    );
    expect((await control.http.put('/v1/config').send(BASE_CONFIG)).status).toBe(401);
  });

  it('lets a read-only token read but not write (403)', async () => {
    const write = await control.http.put('/v1/config').set(readOnly).send(BASE_CONFIG);
    expect(write.status).toBe(403);
    expect(write.body.message).toBe('token "audit" is read-only');
    expect((await control.http.get('/v1/revisions').set(readOnly)).status).toBe(200);
  });

  it('leaves health and the API docs open', async () => {
    expect((await control.http.get('/health')).status).toBe(200);
    const docs = await control.http.get('/docs/json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toContain('/v1/revisions/{n}/rollback');
    const bounce = docs.body.paths['/v1/bounce'].put;
    expect(bounce.requestBody.content['application/json'].schema.example).toMatchObject({ maxRetries: 4 });
    expect(bounce.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['comment', 'dryRun']),
    );
  });
});

describe('PUT /v1/config', () => {
  it('creates revision 1 with author, comment, hash and ETag', async () => {
    const response = await control.http
      .put('/v1/config?comment=initial%20setup')
      .set(admin)
      .send({ ...BASE_CONFIG, auth: { jwt: { secret: JWT_SECRET } } });
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(response.body.outcome).toBe('created');
    expect(response.body.revision).toMatchObject({
      number: 1,
      author: 'admin',
      comment: 'initial setup',
      rollbackOf: null,
    });
    expect(response.body.revision.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(response.body.config.messageTtl).toBe(4);
    expect(response.body.config.auth.jwt.secret).toBe('**redacted**');
  });

  it('returns the document with secrets redacted and the revision as ETag', async () => {
    const response = await control.http.get('/v1/config').set(admin);
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(response.body.globalHost).toBe('example.com');
    expect(response.body.auth.jwt.secret).toBe('**redacted**');
    expect(JSON.stringify(response.body)).not.toContain(JWT_SECRET);
  });

  it('takes back a GET unchanged: the redacted secret keeps the stored one, no new revision', async () => {
    const document = (await control.http.get('/v1/config').set(admin)).body;
    const response = await control.http.put('/v1/config').set(admin).send(document);
    expect(response.status).toBe(200);
    expect(response.body.outcome).toBe('unchanged');
    expect(response.body.revision.number).toBe(1);
    const [row] = await rawQuery('SELECT count(*)::int AS n FROM revisions');
    expect(Number(row!.n)).toBe(1);
  });

  it('lists every field error with its path (400) and stores nothing', async () => {
    const response = await control.http
      .put('/v1/config')
      .set(admin)
      .send({
        globalHost: 'example.com',
        messageTtl: -1,
        bounce: { maxRetries: 99, surprise: true },
        datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc1.example.com' }],
      });
    expect(response.status).toBe(400);
    const paths = response.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['messageTtl', 'bounce.maxRetries']));
    expect(paths.some((p: string) => p.startsWith('bounce') && p.includes('surprise'))).toBe(true);
    expect(paths.some((p: string) => p.startsWith('datacenters'))).toBe(true);
    expect(response.body.errors.length).toBeGreaterThanOrEqual(4);
    expect((await control.http.get('/v1/revisions').set(admin)).body.revisions).toHaveLength(1);
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await control.http
      .put('/v1/config')
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"globalHost": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe('request body is not valid JSON');

    const huge = await control.http
      .put('/v1/config')
      .set(admin)
      .send({ ...BASE_CONFIG, padding: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
  });

  it('dry run returns the would-be revision and diff and stores nothing', async () => {
    const response = await control.http
      .put('/v1/config?dryRun=true')
      .set(admin)
      .send({ ...BASE_CONFIG, auth: { jwt: { secret: '**redacted**' } }, messageTtl: 6 });
    expect(response.status).toBe(200);
    expect(response.body.outcome).toBe('dryRun');
    expect(response.body.revision.number).toBe(2);
    expect(response.body.changes).toEqual([
      { op: 'change', path: 'messageTtl', before: 4, after: 6 },
    ]);
    expect(response.headers.etag).toBe('"1"');
    const latest = await control.http.get('/v1/config').set(admin);
    expect(latest.headers.etag).toBe('"1"');
    expect(latest.body.messageTtl).toBe(4);
  });

  it('refuses a stale If-Match with 412 and accepts the current one', async () => {
    const doc = { ...BASE_CONFIG, auth: { jwt: { secret: '**redacted**' } }, messageTtl: 5 };
    const stale = await control.http.put('/v1/config').set(admin).set('If-Match', '"7"').send(doc);
    expect(stale.status).toBe(412);
    expect(stale.body.message).toMatch(/current revision is 1/);
    const fresh = await control.http.put('/v1/config').set(admin).set('If-Match', '"1"').send(doc);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.etag).toBe('"2"');
    const bad = await control.http
      .put('/v1/config')
      .set(admin)
      .set('If-Match', 'yesterday')
      .send(doc);
    expect(bad.status).toBe(400);
  });
});

describe('settings', () => {
  it('reads the settings sections and replaces them, defaults for what is left out', async () => {
    const before = await control.http.get('/v1/settings').set(admin);
    expect(before.status).toBe(200);
    expect(Object.keys(before.body).sort()).toEqual(
      ['auth', 'cache', 'connections', 'globalHost', 'limits', 'messageTtl', 'redis'].sort(),
    );
    const response = await control.http
      .put('/v1/settings?comment=bigger%20cache')
      .set(admin)
      .send({ ...before.body, cache: { ...before.body.cache, maxJids: 50000 } });
    expect(response.status).toBe(200);
    expect(response.body.changes).toEqual([
      { op: 'change', path: 'cache.maxJids', before: 10000, after: 50000 },
    ]);
    const reset = await control.http
      .put('/v1/settings?dryRun=true')
      .set(admin)
      .send({ globalHost: 'example.com', auth: before.body.auth });
    expect(reset.body.config.cache.maxJids).toBe(10000);
    expect(reset.body.config.messageTtl).toBe(4);
    expect(reset.body.config.datacenters).toHaveLength(2);
  });

  it('rejects a key that is not a setting', async () => {
    const response = await control.http
      .put('/v1/settings')
      .set(admin)
      .send({ globalHost: 'example.com', datacenters: [] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'datacenters', message: 'unknown field' }]);
  });
});

describe('datacenters', () => {
  it('creates (201), replaces (200), reads and deletes (204) one datacenter', async () => {
    const created = await control.http
      .put('/v1/datacenters/DC3.example.com')
      .set(admin)
      .send({ region: 'eu-west', labels: { tier: 'gold' } });
    expect(created.status).toBe(201);
    expect(created.body.changes[0]).toMatchObject({ op: 'add' });

    const replaced = await control.http
      .put('/v1/datacenters/dc3.example.com')
      .set(admin)
      .send({ region: 'eu-north' });
    expect(replaced.status).toBe(200);

    const one = await control.http.get('/v1/datacenters/dc3.example.com').set(admin);
    expect(one.body).toEqual({ localHost: 'dc3.example.com', region: 'eu-north' });
    expect((await control.http.get('/v1/datacenters').set(admin)).body).toHaveLength(3);

    const deleted = await control.http.delete('/v1/datacenters/dc3.example.com').set(admin);
    expect(deleted.status).toBe(204);
    expect((await control.http.get('/v1/datacenters/dc3.example.com').set(admin)).status).toBe(404);
    expect((await control.http.delete('/v1/datacenters/dc3.example.com').set(admin)).status).toBe(
      404,
    );
  });

  it('validates the body and the name', async () => {
    const unknownField = await control.http
      .put('/v1/datacenters/dc4.example.com')
      .set(admin)
      .send({ zone: 'a' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors).toEqual([{ path: 'zone', message: 'unknown field' }]);
    const badName = await control.http.put('/v1/datacenters/not_a_domain!').set(admin).send({});
    expect(badName.status).toBe(400);
    const globalHost = await control.http.put('/v1/datacenters/example.com').set(admin).send({});
    expect(globalHost.status).toBe(400);
  });
});

describe('endpoint overrides', () => {
  it('sets, lists and deletes overrides; a datacenter with one cannot be deleted (409)', async () => {
    const put = await control.http
      .put('/v1/endpoint-overrides/dc2.example.com')
      .set(admin)
      .send({ endpoints: [{ host: '127.0.0.1', port: 15555 }] });
    expect(put.status).toBe(201);
    expect((await control.http.get('/v1/endpoint-overrides').set(admin)).body).toEqual({
      'dc2.example.com': [{ host: '127.0.0.1', port: 15555 }],
    });
    const blocked = await control.http.delete('/v1/datacenters/dc2.example.com').set(admin);
    expect(blocked.status).toBe(409);
    expect(
      (await control.http.delete('/v1/endpoint-overrides/dc2.example.com').set(admin)).status,
    ).toBe(204);
    expect(
      (await control.http.delete('/v1/endpoint-overrides/dc2.example.com').set(admin)).status,
    ).toBe(404);
  });

  it('refuses an override for an unknown datacenter and a bad port', async () => {
    const unknown = await control.http
      .put('/v1/endpoint-overrides/dc9.example.com')
      .set(admin)
      .send({ endpoints: [{ host: '127.0.0.1', port: 5555 }] });
    expect(unknown.status).toBe(400);
    const badPort = await control.http
      .put('/v1/endpoint-overrides/dc1.example.com')
      .set(admin)
      .send({ endpoints: [{ host: '127.0.0.1', port: 70000 }] });
    expect(badPort.status).toBe(400);
    expect(badPort.body.errors[0].path).toMatch(/endpoints\[0\]\.port/);
  });
});

describe('bounce', () => {
  it('reads and replaces the bounce policy with validation', async () => {
    expect((await control.http.get('/v1/bounce').set(admin)).body).toMatchObject({
      enabled: true,
      resendAfterMs: 200,
      maxRetries: 4,
    });
    const put = await control.http
      .put('/v1/bounce')
      .set(admin)
      .send({ enabled: true, resendAfterMs: 100, maxRetries: 6 });
    expect(put.status).toBe(200);
    expect((await control.http.get('/v1/bounce').set(admin)).body.maxRetries).toBe(6);
    const bad = await control.http.put('/v1/bounce').set(admin).send({ maxRetries: 'lots' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['maxRetries']);
  });
});

describe('host types', () => {
  it('creates, lists and deletes host types', async () => {
    const put = await control.http
      .put('/v1/host-types/premium')
      .set(admin)
      .send({ messageTtl: 2, isolated: true });
    expect(put.status).toBe(201);
    const names = (await control.http.get('/v1/host-types').set(admin)).body.map(
      (h: { name: string }) => h.name,
    );
    expect(names).toEqual(['default', 'premium']);
    expect((await control.http.delete('/v1/host-types/premium').set(admin)).status).toBe(204);
    expect((await control.http.delete('/v1/host-types/premium').set(admin)).status).toBe(404);
  });

  it('refuses to delete a host type still used by a domain (409)', async () => {
    await control.http.put('/v1/host-types/busy').set(admin).send({});
    expect(
      (await control.http.put('/v1/domains/busy.test').set(admin).send({ hostType: 'busy' }))
        .status,
    ).toBe(201);
    const blocked = await control.http.delete('/v1/host-types/busy').set(admin);
    expect(blocked.status).toBe(409);
    expect(blocked.body.message).toMatch(/busy \(1 domains\)/);
    await control.http.delete('/v1/domains/busy.test').set(admin);
    expect((await control.http.delete('/v1/host-types/busy').set(admin)).status).toBe(204);
  });
});

describe('components', () => {
  it('stores secrets write-only and keeps them when sent back redacted', async () => {
    const put = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: 'component-secret-1', hidden: true });
    expect(put.status).toBe(201);
    const list = await control.http.get('/v1/components').set(admin);
    expect(list.body).toEqual([
      expect.objectContaining({ domain: 'muc.example.com', secret: '**redacted**', hidden: true }),
    ]);
    const again = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: '**redacted**', hidden: false });
    expect(again.status).toBe(200);
    const [row] = await rawQuery(
      `SELECT snapshot->'components'->0->>'secret' AS secret FROM revisions ORDER BY number DESC LIMIT 1`,
    );
    expect(row.secret).toBe('component-secret-1');
    const diff = await control.http
      .get(`/v1/revisions/${again.body.revision.number}/diff`)
      .set(admin);
    expect(JSON.stringify(diff.body)).not.toContain('component-secret-1');
  });

  it('counts a changed secret as a change but never lets the shown hash reveal it', async () => {
    const before = await control.http
      .put('/v1/components/pubsub.example.com')
      .set(admin)
      .send({ secret: 'first-secret-123' });
    const after = await control.http
      .put('/v1/components/pubsub.example.com')
      .set(admin)
      .send({ secret: 'second-secret-456' });
    expect(after.body.outcome).toBe('created');
    expect(after.body.revision.number).toBe(before.body.revision.number + 1);
    expect(after.body.revision.hash).toBe(before.body.revision.hash);
    expect(after.body.changes).toEqual([
      {
        op: 'change',
        path: 'components["pubsub.example.com"].secret',
        before: '**redacted**',
        after: '**redacted**',
      },
    ]);
    expect((await control.http.delete('/v1/components/pubsub.example.com').set(admin)).status).toBe(
      204,
    );
  });

  it('refuses a component outside the served domains', async () => {
    const response = await control.http
      .put('/v1/components/muc.elsewhere.org')
      .set(admin)
      .send({ secret: 'component-secret-2' });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toMatch(/^components/);
  });

  it('deletes a component (204) and 404s an unknown one', async () => {
    expect((await control.http.delete('/v1/components/muc.example.com').set(admin)).status).toBe(
      204,
    );
    expect((await control.http.delete('/v1/components/muc.example.com').set(admin)).status).toBe(
      404,
    );
  });
});

describe('revisions', () => {
  it('lists newest first with paging', async () => {
    const all = (await control.http.get('/v1/revisions').set(admin)).body.revisions;
    expect(all.length).toBeGreaterThan(5);
    expect(all[0].number).toBeGreaterThan(all[1].number);
    const page = (
      await control.http.get(`/v1/revisions?limit=2&before=${all[0].number}`).set(admin)
    ).body.revisions;
    expect(page.map((r: { number: number }) => r.number)).toEqual([all[1].number, all[2].number]);
    expect((await control.http.get('/v1/revisions?limit=0').set(admin)).status).toBe(400);
  });

  it('shows one revision with its config and a diff against the previous one', async () => {
    const one = await control.http.get('/v1/revisions/2').set(admin);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ number: 2, author: 'admin' });
    expect(one.body.config.messageTtl).toBe(5);
    const diff = await control.http.get('/v1/revisions/2/diff').set(admin);
    expect(diff.body).toEqual({
      from: 1,
      to: 2,
      changes: [{ op: 'change', path: 'messageTtl', before: 4, after: 5 }],
    });
    const first = await control.http.get('/v1/revisions/1/diff').set(admin);
    expect(first.body.from).toBeNull();
    expect(first.body.changes.length).toBeGreaterThan(0);
    expect((await control.http.get('/v1/revisions/999').set(admin)).status).toBe(404);
    expect((await control.http.get('/v1/revisions/abc').set(admin)).status).toBe(400);
  });

  it('rolls back by creating a new revision equal to the old one', async () => {
    const target = (await control.http.get('/v1/revisions/2').set(admin)).body;
    const rollback = await control.http.post('/v1/revisions/2/rollback?comment=undo').set(admin);
    expect(rollback.status).toBe(201);
    expect(rollback.body.revision).toMatchObject({
      rollbackOf: 2,
      comment: 'undo',
      hash: target.hash,
    });
    const current = await control.http.get('/v1/config').set(admin);
    expect(current.headers.etag).toBe(`"${rollback.body.revision.number}"`);
    expect(current.body).toEqual(target.config);
    expect((await control.http.post('/v1/revisions/999/rollback').set(admin)).status).toBe(404);
    const dry = await control.http.post('/v1/revisions/1/rollback?dryRun=true').set(admin);
    expect(dry.body.outcome).toBe('dryRun');
  });
});

async function rawQuery(sql: string): Promise<Record<string, string>[]> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: control.database.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
