import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { describe, expect, it } from 'vitest';
import {
  BounceConfig,
  ComponentBody,
  DatacenterBody,
  EndpointListBody,
  HostTypeBody,
  MeridianConfig,
  SettingsConfig,
} from './config-classes';
import { validateBody, validateConfig } from './validate-config';
import { flattenValidationErrors } from './validation-engine';

const MINIMAL = { globalHost: 'example.com' };

function accepted(input: unknown) {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(`expected valid, got ${JSON.stringify(result.errors)}`);
  return result.config;
}

function errorsOf(input: unknown) {
  const result = validateConfig(input);
  return result.ok ? [] : result.errors;
}

describe('the input as a whole', () => {
  it.each([null, undefined, 42, 'example.com', [], [{ globalHost: 'example.com' }]])(
    'refuses %j as a document',
    (input) => {
      expect(errorsOf(input)).toEqual([{ path: '', message: 'must be a JSON object' }]);
    },
  );

  it('requires globalHost', () => {
    expect(errorsOf({})).toEqual([{ path: 'globalHost', message: 'is required' }]);
  });

  it('refuses input nested deeper than any option, without recursing into it', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) deep = { x: deep };
    const errors = errorsOf({ ...MINIMAL, cache: deep });
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/nested too deeply/);
    expect(errors[0].path).toMatch(/^cache\.x\.x/);
  });
});

describe('unknown fields', () => {
  it('are refused at the top level with their path', () => {
    expect(errorsOf({ ...MINIMAL, messageTTL: 4 })).toEqual([
      { path: 'messageTTL', message: 'unknown field' },
    ]);
  });

  it('are refused inside nested sections', () => {
    expect(
      errorsOf({
        ...MINIMAL,
        connections: { tls: { enabled: true, certFile: '/x' } },
        auth: { jwt: { alg: 'HS256' } },
        limits: { maxStanzaSize: 1 },
      }),
    ).toEqual(
      expect.arrayContaining([
        { path: 'connections.tls.certFile', message: 'unknown field' },
        { path: 'auth.jwt.alg', message: 'unknown field' },
        { path: 'limits.maxStanzaSize', message: 'unknown field' },
      ]),
    );
  });

  it('are refused inside array elements, endpoint lists and host type bounce overrides', () => {
    expect(
      errorsOf({
        ...MINIMAL,
        datacenters: [
          { localHost: 'dc1.example.com' },
          { localHost: 'dc2.example.com', zone: 'a' },
        ],
        endpointOverrides: { 'dc1.example.com': [{ host: 'h', port: 1, weight: 2 }] },
        hostTypes: [{ name: 'default', bounce: { retries: 1 } }],
        components: [{ domain: 'muc.example.com', secret: 'secret-1', password: 'x' }],
      }),
    ).toEqual([
      { path: 'datacenters[1].zone', message: 'unknown field' },
      { path: 'endpointOverrides["dc1.example.com"][0].weight', message: 'unknown field' },
      { path: 'hostTypes[0].bounce.retries', message: 'unknown field' },
      { path: 'components[0].password', message: 'unknown field' },
    ]);
  });

  it('quote names that are not identifiers', () => {
    expect(errorsOf({ ...MINIMAL, 'max ttl': 1, '0': 1 })).toEqual(
      expect.arrayContaining([
        { path: '["max ttl"]', message: 'unknown field' },
        { path: '["0"]', message: 'unknown field' },
      ]),
    );
  });

  it('include __proto__ and constructor, which are never used as prototypes', () => {
    const input = JSON.parse(
      '{"globalHost":"example.com","__proto__":{"messageTtl":9},"cache":{"constructor":{"name":"x"}}}',
    );
    expect(errorsOf(input)).toEqual([
      { path: '__proto__', message: 'unknown field' },
      { path: 'cache.constructor', message: 'unknown field' },
    ]);
    expect(({} as Record<string, unknown>).messageTtl).toBeUndefined();
  });
});

describe('nested values of the wrong type', () => {
  it.each([
    ['connections', 5],
    ['connections', 'x'],
    ['connections', [{ connectionsPerEndpoint: 0 }]],
    ['cache', null],
    ['auth', true],
  ])('%s = %j is one "must be an object" error, nothing about its contents', (key, value) => {
    expect(errorsOf({ ...MINIMAL, [key]: value })).toEqual([
      { path: key, message: 'must be an object' },
    ]);
  });

  it('connections.tls and auth.jwt are objects too', () => {
    expect(errorsOf({ ...MINIMAL, connections: { tls: true }, auth: { jwt: 'HS256' } })).toEqual([
      { path: 'connections.tls', message: 'must be an object' },
      { path: 'auth.jwt', message: 'must be an object' },
    ]);
  });

  it.each([
    ['datacenters', { localHost: 'dc1.example.com' }],
    ['hostTypes', 'default'],
    ['components', null],
  ])('%s = %j is one "must be an array" error', (key, value) => {
    expect(errorsOf({ ...MINIMAL, [key]: value })).toEqual(
      expect.arrayContaining([{ path: key, message: 'must be an array' }]),
    );
    expect(
      errorsOf({ ...MINIMAL, [key]: value }).filter((e) => e.path.startsWith(`${key}.`)),
    ).toEqual([]);
  });

  it('array elements that are not objects are reported at their index', () => {
    expect(
      errorsOf({
        ...MINIMAL,
        datacenters: [
          { localHost: 'dc1.example.com' },
          'dc2.example.com',
          null,
          [{ localHost: 'dc3.example.com' }],
        ],
      }),
    ).toEqual([
      { path: 'datacenters[1]', message: 'must be an object' },
      { path: 'datacenters[2]', message: 'must be an object' },
      { path: 'datacenters[3]', message: 'must be an object' },
    ]);
  });

  it('a host type bounce override must be an object when given', () => {
    expect(errorsOf({ ...MINIMAL, hostTypes: [{ name: 'default', bounce: false }] })).toEqual([
      { path: 'hostTypes[0].bounce', message: 'must be an object' },
    ]);
  });
});

describe('strings and names', () => {
  it('normalises every domain: globalHost, localHost, component domains, override keys, endpoint hosts', () => {
    const config = accepted({
      globalHost: ' Example.COM. ',
      datacenters: [{ localHost: 'DC1.Example.com' }],
      endpointOverrides: { 'Dc1.EXAMPLE.com': [{ host: ' Node1.DC1.example.com ', port: 5555 }] },
      components: [{ domain: 'MUC.example.com', secret: 'secret-1' }],
    });
    expect(config.globalHost).toBe('example.com');
    expect(config.datacenters[0].localHost).toBe('dc1.example.com');
    expect(config.endpointOverrides).toEqual({
      'dc1.example.com': [{ host: 'node1.dc1.example.com', port: 5555 }],
    });
    expect(config.components[0].domain).toBe('muc.example.com');
  });

  it.each([
    ['globalHost', 'not a domain', 'must be a valid domain name'],
    ['globalHost', 42, 'must be a string'],
    ['globalHost', '127.0.0.1', 'must be a valid domain name'],
  ])('%s = %j: %s', (path, value, message) => {
    expect(errorsOf({ [path]: value })).toEqual([{ path, message }]);
  });

  it('checks datacenter and component domains', () => {
    expect(
      errorsOf({
        ...MINIMAL,
        datacenters: [{ localHost: 'dc_1.example.com' }, {}],
        components: [{ domain: '', secret: 'secret-1' }, { secret: 'secret-1' }],
      }),
    ).toEqual([
      { path: 'datacenters[0].localHost', message: 'must be a valid domain name' },
      { path: 'datacenters[1].localHost', message: 'is required' },
      { path: 'components[0].domain', message: 'must be a valid domain name' },
      { path: 'components[1].domain', message: 'is required' },
    ]);
  });

  it('takes IP literals and host names as endpoint hosts', () => {
    const endpoints = [
      { host: '10.0.0.1', port: 1 },
      { host: '::1', port: 2 },
      { host: 'FE80::1', port: 3 },
      { host: 'localhost', port: 4 },
    ];
    const result = validateBody(EndpointListBody, { endpoints });
    expect(result).toEqual({
      ok: true,
      value: { endpoints: endpoints.map((e) => ({ ...e, host: e.host.toLowerCase() })) },
    });
    expect(
      validateBody(EndpointListBody, { endpoints: [{ host: 'not a host', port: 1 }, { port: 1 }] }),
    ).toEqual({
      ok: false,
      errors: [
        { path: 'endpoints[0].host', message: 'must be a host name or an IP address' },
        { path: 'endpoints[1].host', message: 'is required' },
      ],
    });
  });

  it('limits region to 1..64 characters without control characters', () => {
    const region = (value: unknown) =>
      errorsOf({ ...MINIMAL, datacenters: [{ localHost: 'dc1.example.com', region: value }] });
    expect(region('eu-west-1')).toEqual([]);
    expect(region('x'.repeat(64))).toEqual([]);
    expect(region('')).toEqual([
      { path: 'datacenters[0].region', message: 'must be 1 to 64 characters long' },
    ]);
    expect(region('x'.repeat(65))).toEqual([
      { path: 'datacenters[0].region', message: 'must be 1 to 64 characters long' },
    ]);
    expect(region('eu\nwest')).toEqual([
      { path: 'datacenters[0].region', message: 'must not contain control characters' },
    ]);
    expect(region(7)).toEqual([{ path: 'datacenters[0].region', message: 'must be a string' }]);
  });

  it('treats null as absent for optional options', () => {
    const config = accepted({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com', region: null, labels: null }],
      hostTypes: [{ name: 'default', bounce: null, messageTtl: null }],
      components: [{ domain: 'muc.example.com', secret: 'secret-1', balancing: null }],
      auth: { jwt: { secret: null, publicKey: null } },
    });
    expect(config.datacenters[0]).toEqual({ localHost: 'dc1.example.com' });
    expect(config.hostTypes[0]).toEqual({ name: 'default', isolated: false });
    expect(config.components[0]).toEqual({
      domain: 'muc.example.com',
      secret: 'secret-1',
      hidden: false,
    });
    expect(config.auth.jwt).toEqual({ algorithm: 'HS256', usernameClaim: 'sub', requireExp: true });
  });

  it('checks host type names', () => {
    const names = (name: unknown) =>
      errorsOf({ ...MINIMAL, hostTypes: [{ name: 'default' }, { name }] });
    for (const good of ['x', 'test type', 'a.b_c-d', 'A'.repeat(64)])
      expect(names(good)).toEqual([]);
    for (const bad of ['', ' x', 'x ', 'a/b', 'A'.repeat(65), '__proto__']) {
      expect(names(bad)).toEqual([
        { path: 'hostTypes[1].name', message: expect.stringMatching(/^must be 1 to 64/) },
      ]);
    }
    expect(names(undefined)).toEqual([{ path: 'hostTypes[1].name', message: 'is required' }]);
  });

  it('checks the JWT username claim and algorithm', () => {
    expect(
      errorsOf({ ...MINIMAL, auth: { jwt: { usernameClaim: 'preferred_username' } } }),
    ).toEqual([]);
    expect(
      errorsOf({ ...MINIMAL, auth: { jwt: { usernameClaim: '', algorithm: 'none' } } }),
    ).toEqual([
      { path: 'auth.jwt.algorithm', message: 'must be one of: "HS256", "RS256", "ES256"' },
      { path: 'auth.jwt.usernameClaim', message: 'must be 1 to 64 characters long' },
    ]);
  });

  it('checks component balancing and hidden', () => {
    const component = (extra: Record<string, unknown>) =>
      errorsOf({
        ...MINIMAL,
        components: [{ domain: 'muc.example.com', secret: 'secret-1', ...extra }],
      });
    expect(component({ balancing: 'random' })).toEqual([]);
    expect(component({ balancing: 'bareSource', hidden: true })).toEqual([]);
    expect(component({ balancing: 'roundRobin', hidden: 'yes' })).toEqual([
      { path: 'components[0].hidden', message: 'must be true or false' },
      { path: 'components[0].balancing', message: 'must be one of: "random", "bareSource"' },
    ]);
  });
});

describe('labels', () => {
  const labels = (value: unknown) =>
    errorsOf({ ...MINIMAL, datacenters: [{ localHost: 'dc1.example.com', labels: value }] });

  it('are kept, with their names sorted', () => {
    const config = accepted({
      ...MINIMAL,
      datacenters: [
        {
          localHost: 'dc1.example.com',
          labels: { zone: 'b', 'app.kubernetes.io/part-of': 'x', tier: '' },
        },
      ],
    });
    expect(Object.entries(config.datacenters[0].labels!)).toEqual([
      ['app.kubernetes.io/part-of', 'x'],
      ['tier', ''],
      ['zone', 'b'],
    ]);
  });

  it('are reported one by one with the label name in the path', () => {
    expect(labels({ ok: 'x', 'bad name': 'y', n: 5, long: 'v'.repeat(257) })).toEqual([
      {
        path: 'datacenters[0].labels["bad name"]',
        message: expect.stringMatching(/^label names are 1 to 63/),
      },
      { path: 'datacenters[0].labels["n"]', message: 'must be a string' },
      { path: 'datacenters[0].labels["long"]', message: 'must be 0 to 256 characters long' },
    ]);
  });

  it('are at most 64', () => {
    const many = Object.fromEntries([...Array(65)].map((_, i) => [`l${i}`, 'v']));
    expect(labels(many)).toEqual([
      { path: 'datacenters[0].labels', message: 'must have at most 64 labels' },
    ]);
    delete many.l64;
    expect(labels(many)).toEqual([]);
  });

  it('must be an object', () => {
    expect(labels(['a'])).toEqual([
      { path: 'datacenters[0].labels', message: 'must be an object of label names to strings' },
    ]);
  });
});

describe('endpointOverrides', () => {
  const overrides = (value: unknown) =>
    errorsOf({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc2.example.com' }],
      endpointOverrides: value,
    });

  it('accepts up to 64 endpoints per datacenter and sorts datacenters', () => {
    const list = [...Array(64)].map((_, i) => ({ host: `10.0.0.${i}`, port: 5555 }));
    const config = accepted({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc2.example.com' }],
      endpointOverrides: { 'dc2.example.com': list, 'dc1.example.com': [{ host: 'a', port: 1 }] },
    });
    expect(Object.keys(config.endpointOverrides)).toEqual(['dc1.example.com', 'dc2.example.com']);
    expect(config.endpointOverrides['dc2.example.com']).toHaveLength(64);
  });

  it('refuses empty lists, too long lists, non-lists and keys that are not domains', () => {
    const tooMany = [...Array(65)].map(() => ({ host: 'a', port: 1 }));
    expect(
      overrides({
        'dc1.example.com': [],
        'dc2.example.com': tooMany,
        'not a domain': [{ host: 'a', port: 1 }],
      }),
    ).toEqual([
      { path: 'endpointOverrides["dc1.example.com"]', message: 'must not be empty' },
      { path: 'endpointOverrides["dc2.example.com"]', message: 'must have at most 64 entries' },
      {
        path: 'endpointOverrides["not a domain"]',
        message: 'must be a valid domain name (the localHost of a datacenter)',
      },
    ]);
    expect(overrides({ 'dc1.example.com': { host: 'a', port: 1 } })).toEqual([
      { path: 'endpointOverrides["dc1.example.com"]', message: 'must be an array of endpoints' },
    ]);
    expect(overrides([])).toEqual([
      {
        path: 'endpointOverrides',
        message: 'must be an object of datacenter localHosts to endpoint lists',
      },
    ]);
  });

  it('reports each bad endpoint at its index', () => {
    expect(
      overrides({ 'dc1.example.com': [{ host: 'a', port: 1 }, 'a:1', { host: 'b' }] }),
    ).toEqual([
      { path: 'endpointOverrides["dc1.example.com"][1]', message: 'must be an object' },
      {
        path: 'endpointOverrides["dc1.example.com"][2].port',
        message: 'must be an integer from 1 to 65535',
      },
    ]);
  });

  it('refuses two keys naming the same datacenter in different case', () => {
    expect(
      overrides({
        'dc1.example.com': [{ host: 'a', port: 1 }],
        'DC1.example.com': [{ host: 'b', port: 1 }],
      }),
    ).toEqual([
      {
        path: 'endpointOverrides["DC1.example.com"]',
        message: 'is the same datacenter as "dc1.example.com" (domains ignore case)',
      },
    ]);
  });
});

describe('many problems in one document', () => {
  it('are all reported, each with its exact path', () => {
    const result = validateConfig({
      globalHost: 'Example.com',
      datacenters: [
        { localHost: 'dc1.example.com', region: '' },
        { localHost: 'dc1.example.com' },
        { localHost: 'example.com', labels: { 'x y': 'z' } },
      ],
      messageTtl: -1,
      connections: { connectionsPerEndpoint: 0, tls: { enabled: 'yes' } },
      cache: { maxJids: 0, surprise: 1 },
      bounce: { resendAfterMs: 5 },
      redis: { expireAfterS: 60, refreshAfterS: 60 },
      endpointOverrides: { 'dc9.example.com': [{ host: 'h', port: 70000 }] },
      hostTypes: [{ name: 'premium' }, { name: 'premium', isolated: 1 }],
      components: [
        { domain: 'muc.example.com', secret: 'short' },
        { domain: 'muc.example.com', secret: 'long enough' },
        { domain: 'pubsub.elsewhere.org', secret: 'long enough' },
      ],
      auth: { jwt: { algorithm: 'HS256', secret: 'too short', publicKey: 'x' } },
      limits: { maxStanzaBytes: 4096, preAuthStanzaBytes: 8192, maxDepth: 3 },
      extra: true,
    });
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    const expected = [
      { path: 'extra', message: 'unknown field' },
      { path: 'messageTtl', message: 'must be an integer from 0 to 64' },
      { path: 'datacenters[0].region', message: 'must be 1 to 64 characters long' },
      { path: 'datacenters[2].labels["x y"]', message: expect.stringMatching(/^label names/) },
      { path: 'connections.connectionsPerEndpoint', message: 'must be an integer from 1 to 1000' },
      { path: 'connections.tls.enabled', message: 'must be true or false' },
      { path: 'cache.surprise', message: 'unknown field' },
      { path: 'cache.maxJids', message: 'must be an integer from 1 to 10000000' },
      { path: 'bounce.resendAfterMs', message: 'must be an integer from 10 to 60000' },
      { path: 'redis.refreshAfterS', message: 'must be less than expireAfterS (60)' },
      {
        path: 'endpointOverrides["dc9.example.com"][0].port',
        message: 'must be an integer from 1 to 65535',
      },
      { path: 'hostTypes[1].isolated', message: 'must be true or false' },
      { path: 'components[0].secret', message: 'must be at least 8 characters long' },
      { path: 'auth.jwt.secret', message: 'must be at least 32 characters long' },
      {
        path: 'auth.jwt.publicKey',
        message: 'must not be set when algorithm is HS256 (it verifies with secret)',
      },
      {
        path: 'limits.preAuthStanzaBytes',
        message: 'must not be greater than maxStanzaBytes (4096)',
      },
      { path: 'limits.maxDepth', message: 'must be an integer from 4 to 256' },
      { path: 'datacenters[1].localHost', message: 'duplicates datacenters[0].localHost' },
      { path: 'datacenters[2].localHost', message: 'must differ from globalHost' },
      {
        path: 'endpointOverrides["dc9.example.com"]',
        message: 'is not the localHost of a datacenter in this configuration',
      },
      { path: 'hostTypes[1].name', message: 'duplicates hostTypes[0].name' },
      { path: 'hostTypes', message: 'must include a host type named "default"' },
      { path: 'components[1].domain', message: 'duplicates components[0].domain' },
      {
        path: 'components[2].domain',
        message: 'must be a subdomain of globalHost or of a served domain',
      },
    ];
    expect(errors).toEqual(expect.arrayContaining(expected));
    expect(errors).toHaveLength(expected.length);
  });
});

describe('validateBody', () => {
  it('applies defaults to a settings body and requires globalHost', () => {
    const result = validateBody(SettingsConfig, {
      globalHost: 'Example.com',
      cache: { maxJids: 5 },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toBeInstanceOf(SettingsConfig);
    expect(result.value.globalHost).toBe('example.com');
    expect(result.value.cache.maxJids).toBe(5);
    expect(result.value.cache.jidLifetimeS).toBe(5);
    expect(result.value.limits.maxStanzaBytes).toBe(65536);
    expect(validateBody(SettingsConfig, {})).toEqual({
      ok: false,
      errors: [{ path: 'globalHost', message: 'is required' }],
    });
  });

  it('refuses sections that are not settings in a settings body', () => {
    expect(validateBody(SettingsConfig, { ...MINIMAL, datacenters: [], bounce: {} })).toEqual({
      ok: false,
      errors: [
        { path: 'datacenters', message: 'unknown field' },
        { path: 'bounce', message: 'unknown field' },
      ],
    });
  });

  it('runs the rules within a section (redis, limits, jwt) on a settings body', () => {
    expect(
      validateBody(SettingsConfig, {
        ...MINIMAL,
        redis: { refreshAfterS: 120 },
        auth: { jwt: { algorithm: 'ES256' } },
      }),
    ).toEqual({
      ok: false,
      errors: [
        { path: 'redis.refreshAfterS', message: 'must be less than expireAfterS (120)' },
        { path: 'auth.jwt.publicKey', message: 'is required when algorithm is ES256' },
      ],
    });
  });

  it('validates a datacenter body', () => {
    expect(validateBody(DatacenterBody, {})).toEqual({
      ok: true,
      value: expect.any(DatacenterBody),
    });
    expect(validateBody(DatacenterBody, { region: 'eu', labels: { a: 'b' } })).toMatchObject({
      ok: true,
      value: { region: 'eu', labels: { a: 'b' } },
    });
    expect(validateBody(DatacenterBody, { localHost: 'dc1.example.com' })).toEqual({
      ok: false,
      errors: [{ path: 'localHost', message: 'unknown field' }],
    });
  });

  it('validates an endpoint list body', () => {
    expect(validateBody(EndpointListBody, { endpoints: [] })).toEqual({
      ok: false,
      errors: [{ path: 'endpoints', message: 'must not be empty' }],
    });
    expect(validateBody(EndpointListBody, [{ host: 'a', port: 1 }])).toEqual({
      ok: false,
      errors: [{ path: '', message: 'must be a JSON object' }],
    });
  });

  it('validates a host type body with defaults', () => {
    const result = validateBody(HostTypeBody, { bounce: { enabled: false } });
    expect(result.ok && result.value.isolated).toBe(false);
    expect(result.ok && result.value.bounce).toEqual(
      Object.assign(new BounceConfig(), { enabled: false }),
    );
    expect(validateBody(HostTypeBody, { name: 'x' })).toEqual({
      ok: false,
      errors: [{ path: 'name', message: 'unknown field' }],
    });
  });

  it('validates a component body, accepting the redacted placeholder for the stored secret', () => {
    expect(validateBody(ComponentBody, { secret: 'secret-1' })).toMatchObject({
      ok: true,
      value: { secret: 'secret-1', hidden: false },
    });
    expect(validateBody(ComponentBody, { secret: '**redacted**' }).ok).toBe(true);
    expect(validateBody(ComponentBody, { hidden: true, balancing: 'random' })).toEqual({
      ok: false,
      errors: [{ path: 'secret', message: 'is required' }],
    });
    expect(validateBody(ComponentBody, { secret: 'x'.repeat(4097) })).toEqual({
      ok: false,
      errors: [{ path: 'secret', message: 'must be at most 4096 characters long' }],
    });
  });
});

describe('flattenValidationErrors', () => {
  const validate = (input: Record<string, unknown>, options = {}) =>
    validateSync(plainToInstance(MeridianConfig, input), {
      whitelist: true,
      forbidNonWhitelisted: true,
      ...options,
    });

  const bad = {
    globalHost: 'example.com',
    datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'x y' }],
    endpointOverrides: { 'dc1.example.com': [{ host: 'a', port: 0 }] },
    auth: { jwt: { foo: 1 } },
  };
  const expected = [
    { path: 'datacenters[1].localHost', message: 'must be a valid domain name' },
    {
      path: 'endpointOverrides["dc1.example.com"][0].port',
      message: 'must be an integer from 1 to 65535',
    },
    { path: 'auth.jwt.foo', message: 'unknown field' },
  ];

  it('gives the same paths and messages as validateConfig', () => {
    expect(flattenValidationErrors(validate(bad))).toEqual(expected);
    expect(errorsOf(bad)).toEqual(expected);
  });

  it('prefixes a base path', () => {
    expect(flattenValidationErrors(validate(bad), 'config')[0].path).toBe(
      'config.datacenters[1].localHost',
    );
  });

  it('works on errors without values, as a ValidationPipe hands them over', () => {
    const errors = validate(bad, { validationError: { target: false, value: false } });
    expect(flattenValidationErrors(errors)).toEqual([
      expected[0],
      {
        path: 'endpointOverrides',
        message: '["dc1.example.com"][0].port: must be an integer from 1 to 65535',
      },
      expected[2],
    ]);
  });

  it('keeps leaf values when parents lose theirs (the ValidationPipe default)', () => {
    const errors = validate(bad, { validationError: { target: false } });
    const strip = (list: typeof errors) => {
      for (const error of list) {
        if (error.children && error.children.length > 0) {
          delete error.value;
          strip(error.children);
        }
      }
    };
    strip(errors);
    expect(flattenValidationErrors(errors)).toEqual(expected);
  });
});
