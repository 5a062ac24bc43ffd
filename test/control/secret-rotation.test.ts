// The previous keys of a rotation through the REST API: write-only like every secret (redacted
// in reads, diffs and mutation answers), kept when sent back redacted, stored in clear for the
// routers, and removed by leaving them out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, BASE_CONFIG, startControl, type ControlHarness } from '../support/control-app';

const OLD_JWT = 'the-old-hs256-secret-of-at-least-32-chars';
const NEW_JWT = 'the-new-hs256-secret-of-at-least-32-chars';
const OLD_COMPONENT = 'muc-secret-before';
const NEW_COMPONENT = 'muc-secret-after';
const R = '**redacted**';

let control: ControlHarness;

beforeAll(async () => {
  control = await startControl('secret_rotation');
  const first = await control.http
    .put('/v1/config')
    .set(admin)
    .send({
      ...BASE_CONFIG,
      auth: { jwt: { secret: OLD_JWT } },
      components: [{ domain: 'muc.example.com', secret: OLD_COMPONENT }],
    });
  expect(first.status).toBe(200);
});
afterAll(async () => {
  await control?.close();
});

async function storedSnapshot(): Promise<{
  auth: { jwt: Record<string, unknown> };
  components: Record<string, unknown>[];
}> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: control.database.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT snapshot FROM revisions ORDER BY number DESC LIMIT 1',
    );
    return rows[0].snapshot;
  } finally {
    await client.end();
  }
}

describe('previous secrets', () => {
  it('are write-only in every read, diff and answer, and stored for the routers', async () => {
    const settings = await control.http.get('/v1/settings').set(admin);
    const started = await control.http
      .put('/v1/settings')
      .set(admin)
      .send({
        ...settings.body,
        auth: { ...settings.body.auth, jwt: { secret: NEW_JWT, previousSecret: OLD_JWT } },
      });
    expect(started.status).toBe(200);
    const component = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: NEW_COMPONENT, previousSecret: OLD_COMPONENT });
    expect(component.status).toBe(200);
    expect(component.body.changes).toEqual([
      { op: 'change', path: 'components["muc.example.com"].secret', before: R, after: R },
      { op: 'add', path: 'components["muc.example.com"].previousSecret', after: R },
    ]);

    const config = await control.http.get('/v1/config').set(admin);
    expect(config.body.auth.jwt).toMatchObject({ secret: R, previousSecret: R });
    expect(config.body.components[0]).toMatchObject({ secret: R, previousSecret: R });
    const list = await control.http.get('/v1/components').set(admin);
    expect(list.body[0]).toMatchObject({ secret: R, previousSecret: R });
    const revision = await control.http
      .get(`/v1/revisions/${component.body.revision.number}`)
      .set(admin);
    const diff = await control.http
      .get(`/v1/revisions/${started.body.revision.number}/diff`)
      .set(admin);
    const shown = JSON.stringify([started.body, component.body, config.body, list.body]);
    for (const secret of [OLD_JWT, NEW_JWT, OLD_COMPONENT, NEW_COMPONENT]) {
      expect(shown).not.toContain(secret);
      expect(JSON.stringify([revision.body, diff.body])).not.toContain(secret);
    }

    const stored = await storedSnapshot();
    expect(stored.auth.jwt).toMatchObject({ secret: NEW_JWT, previousSecret: OLD_JWT });
    expect(stored.components[0]).toMatchObject({
      secret: NEW_COMPONENT,
      previousSecret: OLD_COMPONENT,
    });
  });

  it('are kept when the redacted document is sent back', async () => {
    const config = await control.http.get('/v1/config').set(admin);
    const back = await control.http.put('/v1/config').set(admin).send(config.body);
    expect(back.body.outcome).toBe('unchanged');
    const component = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: R, previousSecret: R });
    expect(component.body.outcome).toBe('unchanged');
  });

  it('are removed by leaving them out, which ends the rotation', async () => {
    const config = await control.http.get('/v1/config').set(admin);
    const { previousSecret: _jwt, ...jwt } = config.body.auth.jwt;
    const { previousSecret: _component, ...component } = config.body.components[0];
    const ended = await control.http
      .put('/v1/config')
      .set(admin)
      .send({ ...config.body, auth: { ...config.body.auth, jwt }, components: [component] });
    expect(ended.status).toBe(200);
    // In the order of the stored document's keys, which PostgreSQL's jsonb chooses.
    expect(ended.body.changes).toHaveLength(2);
    expect(ended.body.changes).toEqual(
      expect.arrayContaining([
        { op: 'remove', path: 'components["muc.example.com"].previousSecret', before: R },
        { op: 'remove', path: 'auth.jwt.previousSecret', before: R },
      ]),
    );
    const stored = await storedSnapshot();
    expect(stored.auth.jwt).not.toHaveProperty('previousSecret');
    expect(stored.auth.jwt.secret).toBe(NEW_JWT);
    expect(stored.components[0]).not.toHaveProperty('previousSecret');
  });

  it('refuses a placeholder with no stored previous secret, and a previous secret equal to the secret', async () => {
    const placeholder = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: 'muc-secret-third', previousSecret: R });
    expect(placeholder.status).toBe(400);
    expect(placeholder.body.errors).toEqual([
      {
        path: 'components[0].previousSecret',
        message: 'redacted placeholder given but no stored secret',
      },
    ]);
    const same = await control.http
      .put('/v1/components/muc.example.com')
      .set(admin)
      .send({ secret: 'muc-secret-third', previousSecret: 'muc-secret-third' });
    expect(same.status).toBe(400);
    expect(same.body.errors).toEqual([
      { path: 'previousSecret', message: 'must differ from secret' },
    ]);
  });
});
