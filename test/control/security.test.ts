// Control's REST API under hostile input: auth on every route of the OpenAPI document, SQL
// injection payloads in every string it takes, oversized and malformed bodies, and secrets
// kept out of every response and every log line.
import { generateKeyPairSync } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  ADMIN_TOKEN,
  readOnly,
  READONLY_TOKEN,
  startControl,
  type ControlHarness,
} from '../support/control-app';

const JWT_SECRET = 'hs256-secret-that-must-never-leak-0123456789';
const JWT_SECRET_2 = 'second-hs256-secret-never-shown-9876543210';
const COMPONENT_SECRET = 'component-secret-never-shown-4711';
const COMPONENT_SECRET_2 = 'component-secret-rotated-0815-abc';
const DRY_RUN_SECRET = 'a-dry-run-secret-never-stored-1234';
const SECRETS = [JWT_SECRET, JWT_SECRET_2, COMPONENT_SECRET, COMPONENT_SECRET_2, DRY_RUN_SECRET];
/** The integration project's 60 s is tight for hundreds of requests on two busy cores. */
const HEAVY = 240_000;

const MUTATING = new Set(['put', 'post', 'patch', 'delete']);
/** Routes the document lists that answer without a token (and what they answer). */
const PUBLIC_ROUTES: Record<string, number> = { 'get /health': 200 };
/** Fewer than this many documented routes means the document lost some. */
const MIN_DOCUMENTED_ROUTES = 30;

const WRONG_CREDENTIALS: Record<string, string | undefined>[] = [
  { header: undefined },
  { header: 'Bearer wrong-token-0123456789' },
  { header: `Bearer ${ADMIN_TOKEN}x` },
  { header: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
  { header: `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
  { header: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
  { header: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
  { header: ADMIN_TOKEN },
  { header: 'Bearer' },
  { header: 'Bearer ', query: `access_token=${ADMIN_TOKEN}` },
];

interface Route {
  readonly method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  readonly template: string;
  /** The template with plausible values for its parameters. */
  readonly path: string;
  /** The request body example of the document, if any. */
  readonly example?: unknown;
}

interface Counts {
  revisions: number;
  domains: number;
  domainEvents: number;
  latestHash: string | null;
}

const logs: string[] = [];
const logStream = { write: (line: string) => void logs.push(line) };

let control: ControlHarness;
let routes: Route[];

beforeAll(async () => {
  // Every wrong credential on every route comes from this one address on purpose: raise the
  // lockout far above those few hundred failures (auth-throttle.test.ts tests the lockout).
  control = await startControl('security', {
    logStream,
    env: { LOG_LEVEL: 'trace', AUTH_FAILURE_LIMIT: '100000' },
  });
  const first = await control.http
    .put('/v1/config?comment=security%20baseline')
    .set(admin)
    .send({
      globalHost: 'example.com',
      datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc2.example.com' }],
      hostTypes: [{ name: 'default' }, { name: 'premium', messageTtl: 2 }],
      auth: { jwt: { algorithm: 'HS256', secret: JWT_SECRET } },
      components: [{ domain: 'muc.example.com', secret: COMPONENT_SECRET }],
      endpointOverrides: { 'dc2.example.com': [{ host: '127.0.0.1', port: 15555 }] },
    });
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  for (const domain of ['tenant1.example.org', 'tenant2.example.org']) {
    const created = await control.http
      .put(`/v1/domains/${domain}`)
      .set(admin)
      .send({ hostType: 'premium' });
    expect(created.status).toBe(201);
  }
  const docs = await control.http.get('/docs/json');
  expect(docs.status).toBe(200);
  routes = documentedRoutes(docs.body as OpenApiDocument);
}, 120_000);

afterAll(async () => {
  await control?.close();
});

describe('auth on every documented route', () => {
  it('the document lists every route family, not an empty or partial list', () => {
    expect(routes.length).toBeGreaterThanOrEqual(MIN_DOCUMENTED_ROUTES);
    const listed = new Set(routes.map((r) => `${r.method} ${r.template}`));
    for (const expected of [
      'put /v1/config',
      'put /v1/settings',
      'delete /v1/datacenters/{localHost}',
      'put /v1/endpoint-overrides/{localHost}',
      'put /v1/bounce',
      'delete /v1/host-types/{name}',
      'patch /v1/domains/{domain}',
      'put /v1/components/{domain}',
      'post /v1/revisions/{n}/rollback',
      'get /v1/routers',
      'get /v1/topology',
    ]) {
      expect(listed, expected).toContain(expected);
    }
    for (const open of Object.keys(PUBLIC_ROUTES)) expect(listed, open).toContain(open);
  });

  it(
    'answers 401 to a missing or wrong token on every route but the public ones',
    { timeout: HEAVY },
    async () => {
      const before = await counts();
      const failures: string[] = [];
      for (const route of routes) {
        const key = `${route.method} ${route.template}`;
        if (key in PUBLIC_ROUTES) {
          const open = await send(route, undefined);
          if (open.status !== PUBLIC_ROUTES[key])
            failures.push(`${key} without token: ${open.status}`);
          continue;
        }
        for (const { header, query } of WRONG_CREDENTIALS) {
          const response = await send(route, header, query);
          if (
            response.status !== 401 ||
            response.body?.message !== 'a valid bearer token is required'
          ) {
            failures.push(`${key} with ${JSON.stringify(header ?? null)}: ${response.status}`);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(await counts()).toEqual(before);
    },
  );

  it('answers 403 to a read-only token on every mutating route and changes nothing', async () => {
    const before = await counts();
    const mutating = routes.filter((r) => MUTATING.has(r.method));
    expect(mutating.length).toBeGreaterThanOrEqual(15);
    const failures: string[] = [];
    for (const route of mutating) {
      const response = await send(route, readOnly.Authorization, 'comment=from%20audit');
      if (response.status !== 403 || response.body?.message !== 'token "audit" is read-only') {
        failures.push(`${route.method} ${route.path}: ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('lets a read-only token use every GET route', async () => {
    const reads = routes.filter((r) => r.method === 'get');
    expect(reads.length).toBeGreaterThanOrEqual(12);
    const failures: string[] = [];
    for (const route of reads) {
      const response = await send(route, readOnly.Authorization);
      if ([401, 403].includes(response.status) || response.status >= 500) {
        failures.push(`${route.path}: ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps the routes outside the document as documented: docs open, unknown paths 404', async () => {
    expect((await control.http.get('/docs')).status).toBeLessThan(400);
    expect((await control.http.get('/docs/json')).status).toBe(200);
    const health = await control.http.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    for (const path of ['/v1', '/v1/nothing-here', '/v2/config', '/v1/config/../secrets']) {
      const response = await control.http.get(path).set(admin);
      expect(response.status, path).toBe(404);
    }
  });

  it('does not take a read-only token as a writer through a method override header', async () => {
    const before = await counts();
    for (const override of ['PUT', 'DELETE']) {
      const response = await control.http
        .post('/v1/revisions/1/rollback')
        .set(readOnly)
        .set('X-HTTP-Method-Override', override);
      expect(response.status).toBe(403);
      const get = await control.http
        .get('/v1/host-types')
        .set(readOnly)
        .set('X-HTTP-Method-Override', override);
      expect(get.status).toBe(200);
    }
    expect(await counts()).toEqual(before);
  });
});

describe('oversized and malformed bodies', () => {
  const huge = 'x'.repeat(2 * 1024 * 1024);

  it(
    'answers 413 with a clear message to an oversized body on every writing route',
    { timeout: HEAVY },
    async () => {
      const before = await counts();
      const failures: string[] = [];
      for (const route of routes.filter((r) => r.method === 'put' || r.method === 'patch')) {
        const response = await send(route, admin.Authorization, undefined, { padding: huge });
        if (
          response.status !== 413 ||
          !/request body is larger than \d+ bytes/.test(String(response.body?.message))
        ) {
          failures.push(`${route.method} ${route.path}: ${response.status}`);
        }
      }
      expect(failures).toEqual([]);
      expect(await counts()).toEqual(before);
    },
  );

  it('answers 4xx to bodies that are not JSON or not objects, and writes nothing', async () => {
    const before = await counts();
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.method === 'put' || r.method === 'patch')) {
      for (const [type, body] of [
        ['text/plain', '{"globalHost":"example.com"}'],
        ['application/x-www-form-urlencoded', 'globalHost=example.com&hostType=default'],
        ['application/xml', '<config globalHost="example.com"/>'],
        ['application/json', 'null'],
        ['application/json', '"a string"'],
        ['application/json', '[{"hostType":"default"}]'],
        ['application/json', '42'],
      ]) {
        const response = await control.http[route.method](route.path)
          .set(admin)
          .set('Content-Type', type!)
          .send(body!);
        const expected = type === 'application/json' ? 400 : 415;
        if (response.status !== expected) {
          failures.push(`${route.path} ${type} ${body}: ${response.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it(
    'answers 400 to malformed JSON on every writing route and writes nothing',
    { timeout: HEAVY },
    async () => {
      const before = await counts();
      const bodies = ['{"globalHost": ', '{', '[1,2', '{"a":1}}', "{'single': 'quotes'}", '\u0000'];
      const failures: string[] = [];
      for (const route of routes.filter((r) => r.method === 'put' || r.method === 'patch')) {
        for (const raw of bodies) {
          const response = await control.http[route.method](route.path)
            .set(admin)
            .set('Content-Type', 'application/json')
            .send(raw);
          if (response.status !== 400)
            failures.push(`${route.path} ${JSON.stringify(raw)}: ${response.status}`);
        }
      }
      expect(failures).toEqual([]);
      expect(await counts()).toEqual(before);
    },
  );
});

const LONG = 'a'.repeat(100_000);
/** Strings that break naively built SQL, or the driver and PostgreSQL's text/jsonb input. */
const PAYLOADS = [
  `' OR '1'='1`,
  `' OR 1=1 --`,
  `'; DROP TABLE domains; --`,
  `'); DROP TABLE revisions; --`,
  `tenant1.example.org' --`,
  `" OR ""="`,
  `' UNION SELECT snapshot::text, hash, author FROM revisions --`,
  `1; SELECT pg_sleep(5)`,
  `\\'; DROP TABLE domains; --`,
  `%' OR '%'='`,
  '$1',
  `x'::jsonb --`,
  'a\u0000b',
  '\u0000',
  '\u2019 OR \u20181\u2019=\u20181',
  '\u02bc; DROP TABLE domains; --',
  '\uff07 OR \uff071\uff07=\uff071',
  'bad\ud800surrogate',
  'ünïcödé.example.org',
  '../../../etc/passwd',
  `${LONG}' OR '1'='1`,
];
/** Already percent-encoded path segments: malformed escapes and invalid UTF-8. */
const RAW_SEGMENTS = [
  '%',
  '%E0%A4%A',
  '%ED%A0%80',
  '%00',
  '%2e%2e%2f%2e%2e%2fetc',
  '%27%20OR%20%271%27%3D%271',
];
/** What hostile input may get: refused, not found, conflict, precondition, or stored as data. */
const NOT_A_CRASH = [200, 201, 204, 400, 404, 409, 412, 422];
const TABLES = ['domain_events', 'domain_sequence', 'domains', 'migrations', 'revisions'];

describe('SQL injection and odd strings', () => {
  let baseline: Counts;
  beforeAll(async () => {
    baseline = await counts();
  });

  it(
    'refuses or does not find them in every path parameter (no 500, nothing written)',
    { timeout: HEAVY },
    async () => {
      const before = await counts();
      const segments = [...PAYLOADS.filter(encodable).map(pathSegment), ...RAW_SEGMENTS];
      const failures: string[] = [];
      for (const segment of segments) {
        const probes: [Route['method'], string, unknown?][] = [
          ['get', `/v1/domains/${segment}`],
          ['put', `/v1/domains/${segment}`, { hostType: 'default' }],
          ['patch', `/v1/domains/${segment}`, { enabled: false }],
          ['delete', `/v1/domains/${segment}`],
          ['get', `/v1/datacenters/${segment}`],
          ['put', `/v1/datacenters/${segment}`, { region: 'eu' }],
          ['delete', `/v1/datacenters/${segment}`],
          [
            'put',
            `/v1/endpoint-overrides/${segment}`,
            { endpoints: [{ host: '127.0.0.1', port: 1 }] },
          ],
          ['delete', `/v1/endpoint-overrides/${segment}`],
          ['put', `/v1/components/${segment}`, { secret: COMPONENT_SECRET }],
          ['delete', `/v1/components/${segment}`],
          ['delete', `/v1/host-types/${segment}`],
          ['get', `/v1/revisions/${segment}`],
          ['get', `/v1/revisions/${segment}/diff`],
          ['post', `/v1/revisions/${segment}/rollback`],
        ];
        for (const [method, path, body] of probes) {
          const response = await raw(method, path, body);
          if (![400, 404, 409, 422].includes(response.status)) {
            failures.push(`${method} ${path.slice(0, 80)}: ${response.status}`);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(await counts()).toEqual(before);
    },
  );

  it('refuses them in If-Match (400) and writes nothing', async () => {
    const before = await counts();
    for (const payload of PAYLOADS.filter((p) => /^[\x20-\x7e]{1,200}$/.test(p))) {
      const response = await control.http
        .put('/v1/bounce')
        .set(admin)
        .set('If-Match', payload)
        .send({ enabled: false });
      expect(response.status, payload).toBe(400);
    }
    expect(await counts()).toEqual(before);
  });

  it(
    'treats them as data in filters and pagination (no 500, no extra rows)',
    { timeout: HEAVY },
    async () => {
      const failures: string[] = [];
      for (const payload of PAYLOADS.filter(encodable)) {
        const value = queryValue(payload);
        const byHostType = await raw('get', `/v1/domains?hostType=${value}`);
        if (byHostType.status === 200) {
          if (byHostType.body.domains?.length !== 0) failures.push(`hostType=${value}: rows`);
        } else if (byHostType.status !== 400)
          failures.push(`hostType=${value}: ${byHostType.status}`);
        for (const query of [
          `after=${value}`,
          `after=${value}&hostType=premium&enabled=true`,
          `enabled=${value}`,
          `limit=${value}`,
        ]) {
          const response = await raw('get', `/v1/domains?${query}`);
          if (![200, 400].includes(response.status)) failures.push(`${query}: ${response.status}`);
        }
        for (const query of [`before=${value}`, `limit=${value}`]) {
          const response = await raw('get', `/v1/revisions?${query}`);
          if (response.status !== 400) failures.push(`revisions ${query}: ${response.status}`);
        }
      }
      const repeated = await raw('get', '/v1/domains?after=a&after=b&hostType=x&hostType=y');
      if (![200, 400].includes(repeated.status)) failures.push(`repeated keys: ${repeated.status}`);
      const nested = await raw('get', '/v1/domains?after[$gt]=&hostType[]=premium');
      if (![200, 400].includes(nested.status)) failures.push(`nested keys: ${nested.status}`);
      expect(failures).toEqual([]);
    },
  );

  it(
    'refuses them as a domain host type and stores them as plain data where they are valid',
    { timeout: HEAVY },
    async () => {
      const failures: string[] = [];
      let created = 0;
      const expectStored = (what: string, status: number, outcome: unknown) => {
        if (!NOT_A_CRASH.includes(status)) failures.push(`${what}: ${status}`);
        if (outcome === 'created') created += 1;
      };
      const current = (await control.http.get('/v1/config').set(admin)).body;
      for (const payload of PAYLOADS) {
        const short = JSON.stringify(payload.slice(0, 40));

        const domain = await raw('put', '/v1/domains/fresh.example.org', { hostType: payload });
        if (![400, 422].includes(domain.status))
          failures.push(`hostType ${short}: ${domain.status}`);

        const region = await raw('put', '/v1/datacenters/dc1.example.com', {
          region: payload,
          labels: { tier: payload },
        });
        expectStored(`region ${short}`, region.status, region.body?.outcome);
        if (region.status === 200) {
          const read = await raw('get', '/v1/datacenters/dc1.example.com');
          if (read.body.region !== payload) failures.push(`region ${short} not read back as sent`);
        }

        if (encodable(payload)) {
          const hostType = await raw('put', `/v1/host-types/${pathSegment(payload)}`, {});
          expectStored(`host type ${short}`, hostType.status, hostType.body?.outcome);
          if (hostType.status === 201) {
            const removed = await raw('delete', `/v1/host-types/${pathSegment(payload)}`);
            expectStored(`delete host type ${short}`, removed.status, 'created');
          }
          const comment = await raw('put', `/v1/bounce?comment=${queryValue(payload)}`, {
            enabled: true,
            resendAfterMs: 200 + created,
            maxRetries: 4,
          });
          expectStored(`comment ${short}`, comment.status, comment.body?.outcome);
          if (comment.status === 200) {
            const read = await raw('get', `/v1/revisions/${comment.body.revision?.number}`);
            if (read.body.comment !== payload.trim()) failures.push(`comment ${short} not kept`);
          }
        }

        for (const [what, path, body] of [
          ['globalHost', '/v1/config', { ...current, globalHost: payload }],
          [
            'datacenter localHost',
            '/v1/config',
            { ...current, datacenters: [...current.datacenters, { localHost: payload }] },
          ],
          [
            'component domain',
            '/v1/config',
            { ...current, components: [{ domain: payload, secret: COMPONENT_SECRET }] },
          ],
          ['settings globalHost', '/v1/settings', { globalHost: payload }],
          [
            'component balancing',
            '/v1/components/muc.example.com',
            { secret: COMPONENT_SECRET, balancing: payload },
          ],
          [
            'endpoint host',
            '/v1/endpoint-overrides/dc2.example.com',
            { endpoints: [{ host: payload, port: 5555 }] },
          ],
        ] as const) {
          const response = await raw('put', path, body);
          if (response.status !== 400) failures.push(`${what} ${short}: ${response.status}`);
        }
      }
      expect(failures).toEqual([]);
      const after = await counts();
      expect(after.domains).toBe(baseline.domains);
      expect(after.domainEvents).toBe(baseline.domainEvents);
      expect(after.revisions).toBe(baseline.revisions + created);
    },
  );

  it('answers 400, not 500, to text PostgreSQL cannot store (NUL, unpaired surrogate)', async () => {
    const before = await counts();
    const probes: [Route['method'], string, unknown?][] = [
      ['get', '/v1/domains?hostType=a%00b'],
      ['get', '/v1/domains?after=%00'],
      ['put', '/v1/bounce?comment=a%00b', { enabled: true, resendAfterMs: 999, maxRetries: 4 }],
      ['put', '/v1/datacenters/dc1.example.com', { region: 'eu\ud800west' }],
      [
        'put',
        '/v1/config',
        { globalHost: 'example.com', datacenters: [{ localHost: 'a\u0000b' }] },
      ],
    ];
    for (const [method, path, body] of probes) {
      const response = await raw(method, path, body);
      expect(response.status, path).toBe(400);
      expect(response.body.message, path).toMatch(/cannot be stored|invalid|not a valid/);
    }
    expect(await counts()).toEqual(before);
  });

  it('leaves the database intact and working', async () => {
    const tables = await sql<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(TABLES));
    const list = await control.http.get('/v1/domains').set(admin);
    expect(list.status).toBe(200);
    expect(list.body.domains.map((d: { domain: string }) => d.domain)).toEqual([
      'tenant1.example.org',
      'tenant2.example.org',
    ]);
    const created = await control.http
      .put('/v1/domains/after-injection.example.org')
      .set(admin)
      .send({ hostType: 'default' });
    expect(created.status).toBe(201);
    expect(
      (await control.http.delete('/v1/domains/after-injection.example.org').set(admin)).status,
    ).toBe(204);
    const config = await control.http.get('/v1/config').set(admin);
    expect(config.status).toBe(200);
    expect(config.body.globalHost).toBe('example.com');
  });
});

describe('secrets stay write-only in responses and logs', () => {
  /** Every response of this section, checked for secrets at the end. */
  const seen: { what: string; text: string }[] = [];
  const record = <T extends { status: number; text: string; headers: object }>(
    what: string,
    response: T,
  ): T => {
    seen.push({
      what,
      text: `${response.status} ${JSON.stringify(response.headers)} ${response.text}`,
    });
    return response;
  };
  const write = async (method: 'put' | 'post', path: string, body?: unknown) =>
    record(
      `${method} ${path}`,
      await (body === undefined
        ? control.http[method](path).set(admin)
        : control.http[method](path)
            .set(admin)
            .send(body as object)),
    );

  it('accepts secrets, rotations and a public key, and shows only the public key', async () => {
    expect(
      (await write('put', '/v1/components/muc.example.com', { secret: COMPONENT_SECRET_2 })).status,
    ).toBe(200);
    expect(
      (await write('put', '/v1/components/pubsub.example.com', { secret: COMPONENT_SECRET }))
        .status,
    ).toBe(201);
    const settings = (await control.http.get('/v1/settings').set(admin)).body;
    expect(settings.auth.jwt.secret).toBe('**redacted**');
    const rotated = await write('put', '/v1/settings?comment=rotate', {
      ...settings,
      auth: { ...settings.auth, jwt: { ...settings.auth.jwt, secret: JWT_SECRET_2 } },
    });
    expect(rotated.status).toBe(200);

    const { publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const { secret: _dropped, ...hs256 } = settings.auth.jwt;
    void _dropped;
    const rs256 = await write('put', '/v1/settings', {
      ...settings,
      auth: { ...settings.auth, jwt: { ...hs256, algorithm: 'RS256', publicKey } },
    });
    expect(rs256.status, rs256.text).toBe(200);
    const shown = (await control.http.get('/v1/config').set(admin)).body.auth.jwt;
    expect(shown.algorithm).toBe('RS256');
    expect(shown.publicKey.trim()).toBe(publicKey.trim());

    const back = await write('put', '/v1/settings?comment=back%20to%20hs256', {
      ...settings,
      auth: { ...settings.auth, jwt: { ...settings.auth.jwt, secret: JWT_SECRET } },
    });
    expect(back.status).toBe(200);
    const [stored] = await sql<{ secret: string }>(
      `SELECT snapshot->'auth'->'jwt'->>'secret' AS secret FROM revisions ORDER BY number DESC LIMIT 1`,
    );
    expect(stored!.secret).toBe(JWT_SECRET);
  });

  it('keeps secrets out of refusals that carry them: validation errors, dry runs, wrong places', async () => {
    const current = (await control.http.get('/v1/config').set(admin)).body;
    const refusals: [string, unknown][] = [
      ['/v1/config', { ...current, messageTtl: -1, auth: { jwt: { secret: JWT_SECRET_2 } } }],
      ['/v1/config', { ...current, auth: { jwt: { secret: [JWT_SECRET_2] } } }],
      ['/v1/config', { ...current, auth: { jwt: { secret: JWT_SECRET_2, extra: JWT_SECRET } } }],
      ['/v1/config', { ...current, auth: { jwt: { algorithm: 'RS256', secret: JWT_SECRET_2 } } }],
      ['/v1/config', { ...current, auth: { jwt: { secret: JWT_SECRET_2.slice(0, 8) } } }],
      ['/v1/components/muc.elsewhere.org', { secret: COMPONENT_SECRET_2 }],
      [
        '/v1/components/muc.example.com',
        { secret: COMPONENT_SECRET_2, surprise: COMPONENT_SECRET },
      ],
      ['/v1/components/muc.example.com', { secret: { value: COMPONENT_SECRET_2 } }],
      [
        '/v1/components/muc.example.com',
        { secret: COMPONENT_SECRET_2, balancing: COMPONENT_SECRET },
      ],
      ['/v1/components/muc.example.com?dryRun=maybe', { secret: COMPONENT_SECRET }],
      ['/v1/settings', { globalHost: JWT_SECRET }],
      [
        '/v1/config',
        { ...current, components: [{ domain: 'x\u0000.example.com', secret: COMPONENT_SECRET_2 }] },
      ],
    ];
    for (const [path, body] of refusals) {
      const response = await write('put', path, body);
      expect(response.status, `${path} ${response.text}`).toBe(400);
    }
    const dry = await write('put', '/v1/components/muc.example.com?dryRun=true', {
      secret: DRY_RUN_SECRET,
    });
    expect(dry.status).toBe(200);
    expect(dry.text).not.toContain(DRY_RUN_SECRET);
  });

  it('keeps secrets out of a failed write the database refuses (500)', async () => {
    await sql(`ALTER TABLE revisions ADD CONSTRAINT refuse_all CHECK (number < 0) NOT VALID`);
    try {
      const current = (await control.http.get('/v1/config').set(admin)).body;
      const failed = await write('put', '/v1/config?comment=doomed', {
        ...current,
        auth: { jwt: { secret: JWT_SECRET_2 } },
        components: [{ domain: 'muc.example.com', secret: COMPONENT_SECRET }],
      });
      expect(failed.status).toBe(500);
      expect(failed.body.message).toBe('internal error');
    } finally {
      await sql(`ALTER TABLE revisions DROP CONSTRAINT refuse_all`);
    }
    const [stored] = await sql<{ secret: string }>(
      `SELECT snapshot->'auth'->'jwt'->>'secret' AS secret FROM revisions ORDER BY number DESC LIMIT 1`,
    );
    expect(stored!.secret).toBe(JWT_SECRET);
  });

  it('keeps secrets out of answers and logs while Redis is down', { timeout: HEAVY }, async () => {
    await control.redis.stop();
    try {
      const rotated = await write('put', '/v1/components/pubsub.example.com', {
        secret: COMPONENT_SECRET_2,
      });
      expect(rotated.status).toBe(200);
      for (const path of ['/health', '/v1/routers', '/v1/topology']) {
        const response = record(`get ${path}`, await control.http.get(path).set(admin));
        expect([200, 503], path).toContain(response.status);
      }
      await until(() => logs.some((line) => line.includes('postponed')), 30_000);
    } finally {
      await control.redis.restart();
    }
    await until(async () => (await control.http.get('/health')).status === 200, 60_000);
    await until(async () => {
      const [row] = await sql<{ unpushed: number }>(
        'SELECT count(*)::int AS unpushed FROM revisions WHERE pushed_at IS NULL',
      );
      return row!.unpushed === 0;
    }, 60_000);
  });

  it(
    'shows no secret in any GET route of the document, for every revision and diff',
    { timeout: HEAVY },
    async () => {
      const latest = (await control.http.get('/v1/revisions?limit=1').set(admin)).body.revisions[0]
        .number as number;
      expect(latest).toBeGreaterThanOrEqual(8);
      const config = (await control.http.get('/v1/config').set(admin)).body;
      const domains = (await control.http.get('/v1/domains').set(admin)).body.domains;
      const values: Record<string, string[]> = {
        n: Array.from({ length: latest }, (_, i) => String(i + 1)),
        localHost: config.datacenters.map((dc: { localHost: string }) => dc.localHost),
        name: config.hostTypes.map((h: { name: string }) => h.name),
        component: config.components.map((c: { domain: string }) => c.domain),
        domain: domains.map((d: { domain: string }) => d.domain),
      };
      expect(values.component).toHaveLength(2);
      const reads = routes.filter((r) => r.method === 'get');
      let calls = 0;
      for (const route of reads) {
        const names = [...route.template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
        const parameter = names[0];
        const key =
          parameter === 'domain' && route.template.startsWith('/v1/components')
            ? 'component'
            : parameter;
        const substitutions =
          key === undefined ? [undefined] : (values[key] ?? [plausibleValue(route.template, key)]);
        for (const value of substitutions) {
          const path =
            value === undefined
              ? route.template
              : route.template.replace(`{${parameter}}`, encodeURIComponent(value));
          for (const query of ['', '?limit=500']) {
            const response = record(
              `get ${path}${query}`,
              await control.http.get(`${path}${query}`).set(readOnly),
            );
            expect(response.status, path).toBeLessThan(500);
            calls += 1;
          }
        }
      }
      expect(calls).toBeGreaterThan(2 * (reads.length + latest));
      record('docs', await control.http.get('/docs/json'));
      const leaks = seen.filter(({ text }) => SECRETS.some((secret) => text.includes(secret)));
      expect(leaks.map((l) => `${l.what} ${l.text.slice(0, 600)}`)).toEqual([]);
      expect(seen.some(({ text }) => text.includes('**redacted**'))).toBe(true);
    },
  );
});

describe('logs', () => {
  it('were captured, including refusals, the failed write and the Redis outage', () => {
    const text = logs.join('');
    for (const expected of [
      '"statusCode":401',
      '"statusCode":400',
      '"statusCode":500',
      'refuse_all',
      'postponed',
      // The refused request that carried the admin token in its query string.
      'access_token=**redacted**',
    ]) {
      expect(text.includes(expected), expected).toBe(true);
    }
  });

  it('never carry a secret or an admin token', () => {
    for (const secret of [...SECRETS, ADMIN_TOKEN, READONLY_TOKEN]) {
      expect(
        logs.filter((l) => l.includes(secret)).slice(0, 3),
        `log contains ${secret.slice(0, 6)}...`,
      ).toEqual([]);
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { example?: unknown } }> };
}

/** A value for each path parameter under which the route finds something real. */
function plausibleValue(template: string, parameter: string): string {
  if (parameter === 'n') return '1';
  if (parameter === 'localHost') {
    return template.startsWith('/v1/endpoint-overrides') ? 'dc2.example.com' : 'dc1.example.com';
  }
  if (parameter === 'name') return 'premium';
  if (parameter === 'domain') {
    return template.startsWith('/v1/components') ? 'muc.example.com' : 'tenant1.example.org';
  }
  return 'probe.example.com';
}

function documentedRoutes(document: OpenApiDocument): Route[] {
  const found: Route[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
      const path = template.replace(/\{([^}]+)\}/g, (_, name: string) =>
        encodeURIComponent(plausibleValue(template, name)),
      );
      const example = operation.requestBody?.content?.['application/json']?.schema?.example;
      found.push({ method: method as Route['method'], template, path, example });
    }
  }
  return found;
}

async function send(
  route: Route,
  authorization: string | undefined,
  query?: string,
  body?: unknown,
): Promise<{ status: number; body: { message?: unknown } | undefined; text: string }> {
  const url = query ? `${route.path}?${query}` : route.path;
  let request = control.http[route.method](url);
  if (authorization !== undefined) request = request.set('Authorization', authorization);
  const payload = body ?? route.example;
  const response = await (MUTATING.has(route.method) && payload !== undefined
    ? request.send(payload as object)
    : request);
  return { status: response.status, body: response.body, text: response.text };
}

interface ResponseBody {
  message?: unknown;
  outcome?: unknown;
  region?: unknown;
  comment?: unknown;
  domains?: unknown[];
  revision?: { number: number };
}

/** An admin request; the path is sent as given (already encoded). */
async function raw(
  method: Route['method'],
  path: string,
  body?: unknown,
): Promise<{ status: number; body: ResponseBody }> {
  const request = control.http[method](path).set(admin);
  const response = await (body === undefined ? request : request.send(body as object));
  return { status: response.status, body: response.body };
}

/** Lone surrogates cannot be percent-encoded as UTF-8 (RAW_SEGMENTS has invalid UTF-8). */
function encodable(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}

/** Long payloads are cut for URLs so the request line stays under Node's header limit. */
function pathSegment(value: string): string {
  return encodeURIComponent(value.length > 4000 ? value.slice(-4000) : value);
}
const queryValue = pathSegment;

async function counts(): Promise<Counts> {
  const [row] = await sql<{
    revisions: number;
    domains: number;
    events: number;
    hash: string | null;
  }>(
    `SELECT (SELECT count(*)::int FROM revisions) AS revisions,
            (SELECT count(*)::int FROM domains) AS domains,
            (SELECT count(*)::int FROM domain_events) AS events,
            (SELECT hash FROM revisions ORDER BY number DESC LIMIT 1) AS hash`,
  );
  return {
    revisions: row!.revisions,
    domains: row!.domains,
    domainEvents: row!.events,
    latestHash: row!.hash,
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: control.database.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
