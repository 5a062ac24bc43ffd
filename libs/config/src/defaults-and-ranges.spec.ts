import { describe, expect, it } from 'vitest';
import {
  AuthConfig,
  BounceConfig,
  CacheConfig,
  ConnectionsConfig,
  EndpointConfig,
  HostTypeConfig,
  LimitsConfig,
  MeridianConfig,
  RedisPolicyConfig,
} from './config-classes';
import { integerRangesOf } from './decorators';
import { defaultConfig, validateConfig } from './validate-config';

type Json = Record<string, unknown>;

function accepted(input: unknown) {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(`expected valid, got ${JSON.stringify(result.errors)}`);
  return result.config;
}

function errorsOf(input: unknown) {
  const result = validateConfig(input);
  return result.ok ? [] : result.errors;
}

/** Sets `a.b[0].c`-style paths, creating objects on the way. */
function withValue(base: Json, path: string, value: unknown): Json {
  const copy = structuredClone(base);
  const keys = path.split('.');
  let cursor: Json = copy;
  for (const key of keys.slice(0, -1)) {
    cursor[key] ??= {};
    cursor = cursor[key] as Json;
  }
  cursor[keys[keys.length - 1]] = value;
  return copy;
}

const MINIMAL = { globalHost: 'example.com' };

describe('defaults', () => {
  it('fills every option of a minimal document with the MongooseIM defaults', () => {
    expect(accepted(MINIMAL)).toEqual({
      globalHost: 'example.com',
      datacenters: [],
      messageTtl: 4,
      connections: {
        connectionsPerEndpoint: 1,
        endpointRefreshIntervalS: 60,
        endpointRefreshIntervalCleanStartS: 3,
        disabledGcIntervalS: 60,
        tls: { enabled: true },
      },
      cache: { cacheMissed: true, domainLifetimeS: 600, jidLifetimeS: 5, maxJids: 10000 },
      bounce: { enabled: true, resendAfterMs: 200, maxRetries: 4, maxQueued: 10000 },
      redis: { expireAfterS: 120, refreshAfterS: 60 },
      endpointOverrides: {},
      hostTypes: [{ name: 'default', isolated: false }],
      components: [],
      auth: {
        jwt: { algorithm: 'HS256', usernameClaim: 'sub', requireExp: true },
        allowPlaintext: false,
      },
      limits: {
        maxStanzaBytes: 65536,
        preAuthStanzaBytes: 8192,
        maxDepth: 32,
        maxAttributes: 64,
        maxAttributeBytes: 4096,
        authTimeoutS: 30,
        maxConnectionsPerIp: 1000,
        stanzasPerSecond: 1000,
        stanzaBurst: 2000,
      },
    });
  });

  it('writes keys in the canonical order whatever order the input used', () => {
    const config = accepted({
      limits: { stanzaBurst: 10, maxDepth: 8 },
      auth: { allowPlaintext: true, jwt: { requireExp: false, algorithm: 'HS256' } },
      globalHost: 'example.com',
    });
    expect(Object.keys(config)).toEqual([
      'globalHost',
      'datacenters',
      'messageTtl',
      'connections',
      'cache',
      'bounce',
      'redis',
      'endpointOverrides',
      'hostTypes',
      'components',
      'auth',
      'limits',
    ]);
    expect(Object.keys(config.auth)).toEqual(['jwt', 'allowPlaintext']);
    expect(Object.keys(config.auth.jwt)).toEqual(['algorithm', 'usernameClaim', 'requireExp']);
    expect(Object.keys(config.limits)[0]).toBe('maxStanzaBytes');
  });

  it('fills the missing fields of a partly given section, keeping the given ones', () => {
    const config = accepted({ ...MINIMAL, bounce: { maxRetries: 0 }, connections: { tls: {} } });
    expect(config.bounce).toEqual({
      enabled: true,
      resendAfterMs: 200,
      maxRetries: 0,
      maxQueued: 10000,
    });
    expect(config.connections.tls).toEqual({ enabled: true });
  });

  it('returns plain JSON data, not class instances', () => {
    const config = accepted({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com', labels: { a: 'b' } }],
      endpointOverrides: { 'dc1.example.com': [{ host: 'h', port: 1 }] },
      hostTypes: [{ name: 'default', bounce: {} }],
      components: [{ domain: 'muc.example.com', secret: 'secret-1' }],
    });
    expect(config).toStrictEqual(JSON.parse(JSON.stringify(config)));
    expect(Object.getPrototypeOf(config.hostTypes[0].bounce)).toBe(Object.prototype);
  });

  it('treats an explicitly undefined option like an absent one', () => {
    expect(accepted({ ...MINIMAL, messageTtl: undefined, cache: undefined }).messageTtl).toBe(4);
  });

  it('gives a host type bounce override the bounce defaults for fields it leaves out', () => {
    const config = accepted({
      ...MINIMAL,
      bounce: { maxRetries: 9 },
      hostTypes: [
        { name: 'default' },
        { name: 'slow', bounce: { resendAfterMs: 1000 }, messageTtl: 1 },
      ],
    });
    expect(config.hostTypes[1]).toEqual({
      name: 'slow',
      bounce: { enabled: true, resendAfterMs: 1000, maxRetries: 4, maxQueued: 10000 },
      messageTtl: 1,
      isolated: false,
    });
  });

  it('defaults the fields of datacenters and components', () => {
    const config = accepted({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com' }],
      components: [{ domain: 'muc.example.com', secret: 'secret-1' }],
    });
    expect(config.datacenters).toEqual([{ localHost: 'dc1.example.com' }]);
    expect(config.components).toEqual([
      { domain: 'muc.example.com', secret: 'secret-1', hidden: false },
    ]);
  });

  it('is what the class initialisers say (one definition)', () => {
    const fromClasses = new MeridianConfig();
    const config = accepted(MINIMAL);
    expect(config.messageTtl).toBe(fromClasses.messageTtl);
    expect(config.connections).toEqual({ ...new ConnectionsConfig(), tls: { enabled: true } });
    expect(config.cache).toEqual({ ...new CacheConfig() });
    expect(config.bounce).toEqual({ ...new BounceConfig() });
    expect(config.redis).toEqual({ ...new RedisPolicyConfig() });
    expect(config.limits).toEqual({ ...new LimitsConfig() });
    expect(new AuthConfig().jwt.algorithm).toBe('HS256');
  });

  it('does not share default objects between documents', () => {
    const a = new MeridianConfig();
    const b = new MeridianConfig();
    expect(a.connections).not.toBe(b.connections);
    expect(a.hostTypes).not.toBe(b.hostTypes);
  });
});

describe('defaultConfig', () => {
  it('equals validating a document with only globalHost', () => {
    expect(defaultConfig('example.com')).toEqual(accepted(MINIMAL));
  });

  it('normalises the global host', () => {
    expect(defaultConfig(' Example.COM ').globalHost).toBe('example.com');
  });

  it('throws on an invalid global host', () => {
    expect(() => defaultConfig('not a domain')).toThrow(/not a valid domain name/);
  });

  it('returns a fresh object each time', () => {
    const a = defaultConfig('example.com');
    a.hostTypes.push({ name: 'x', isolated: true });
    expect(defaultConfig('example.com').hostTypes).toHaveLength(1);
  });
});

// Every integer option: path, lowest, highest, and what else the document needs so
// that the boundary values do not trip a rule between options.
const INTEGER_OPTIONS: [string, number, number, Json][] = [
  ['messageTtl', 0, 64, {}],
  ['connections.connectionsPerEndpoint', 1, 1000, {}],
  ['connections.endpointRefreshIntervalS', 1, 86400, {}],
  ['connections.endpointRefreshIntervalCleanStartS', 1, 3600, {}],
  ['connections.disabledGcIntervalS', 1, 86400, {}],
  ['cache.domainLifetimeS', 0, 86400, {}],
  ['cache.jidLifetimeS', 0, 86400, {}],
  ['cache.maxJids', 1, 10_000_000, {}],
  ['bounce.resendAfterMs', 10, 60000, {}],
  ['bounce.maxRetries', 0, 20, {}],
  ['bounce.maxQueued', 1, 1_000_000, {}],
  ['redis.expireAfterS', 5, 86400, { redis: { refreshAfterS: 1 } }],
  ['redis.refreshAfterS', 1, 86399, { redis: { expireAfterS: 86400 } }],
  ['limits.maxStanzaBytes', 1024, 16_777_216, { limits: { preAuthStanzaBytes: 512 } }],
  ['limits.preAuthStanzaBytes', 512, 1_048_576, { limits: { maxStanzaBytes: 16_777_216 } }],
  ['limits.maxDepth', 4, 256, {}],
  ['limits.maxAttributes', 8, 1024, {}],
  ['limits.maxAttributeBytes', 256, 1_048_576, {}],
  ['limits.authTimeoutS', 1, 600, {}],
  ['limits.maxConnectionsPerIp', 1, 1_000_000, {}],
  ['limits.stanzasPerSecond', 1, 1_000_000, {}],
  ['limits.stanzaBurst', 1, 10_000_000, {}],
];

describe('integer ranges', () => {
  describe.each(INTEGER_OPTIONS)('%s (%i..%i)', (path, min, max, extra) => {
    const base = { ...MINIMAL, ...extra };
    const read = (config: unknown) =>
      path.split('.').reduce<unknown>((v, k) => (v as Json)[k], config);

    it('accepts both ends', () => {
      expect(read(accepted(withValue(base, path, min)))).toBe(min);
      expect(read(accepted(withValue(base, path, max)))).toBe(max);
    });

    it('refuses just outside both ends', () => {
      expect(errorsOf(withValue(base, path, min - 1))).toContainEqual({
        path,
        message: expect.any(String),
      });
      expect(errorsOf(withValue(base, path, max + 1))).toContainEqual({
        path,
        message: expect.any(String),
      });
    });

    it('refuses fractions, numeric strings, booleans and null', () => {
      for (const bad of [min + 0.5, String(min), true, null]) {
        expect(errorsOf(withValue(base, path, bad))).toEqual([
          { path, message: expect.any(String) },
        ]);
      }
    });
  });

  it('says the range in the message', () => {
    expect(errorsOf({ ...MINIMAL, messageTtl: 65 })).toEqual([
      { path: 'messageTtl', message: 'must be an integer from 0 to 64' },
    ]);
  });

  it('bounds redis.refreshAfterS at 86400 by its own range as well', () => {
    expect(errorsOf({ ...MINIMAL, redis: { expireAfterS: 86400, refreshAfterS: 86401 } })).toEqual([
      { path: 'redis.refreshAfterS', message: 'must be an integer from 1 to 86400' },
    ]);
    expect(integerRangesOf(RedisPolicyConfig).get('refreshAfterS')).toEqual({ min: 1, max: 86400 });
  });

  it('covers every integer option of the settings classes', () => {
    const declared = [
      ...[...integerRangesOf(MeridianConfig).keys()],
      ...[...integerRangesOf(ConnectionsConfig).keys()].map((k) => `connections.${k}`),
      ...[...integerRangesOf(CacheConfig).keys()].map((k) => `cache.${k}`),
      ...[...integerRangesOf(BounceConfig).keys()].map((k) => `bounce.${k}`),
      ...[...integerRangesOf(RedisPolicyConfig).keys()].map((k) => `redis.${k}`),
      ...[...integerRangesOf(LimitsConfig).keys()].map((k) => `limits.${k}`),
    ];
    expect(declared.sort()).toEqual(INTEGER_OPTIONS.map(([path]) => path).sort());
    for (const [path, min, max] of INTEGER_OPTIONS) {
      const [section, key] = path.includes('.') ? path.split('.') : ['', path];
      const cls = {
        '': MeridianConfig,
        connections: ConnectionsConfig,
        cache: CacheConfig,
        bounce: BounceConfig,
        redis: RedisPolicyConfig,
        limits: LimitsConfig,
      }[section]!;
      const declaredRange = integerRangesOf(cls).get(key)!;
      // refreshAfterS is additionally bounded by expireAfterS; its own range is 1..86400.
      if (path !== 'redis.refreshAfterS') expect(declaredRange).toEqual({ min, max });
    }
  });

  it('bounds a host type messageTtl like the global one', () => {
    const doc = (ttl: unknown) => ({
      ...MINIMAL,
      hostTypes: [{ name: 'default', messageTtl: ttl }],
    });
    expect(accepted(doc(0)).hostTypes[0].messageTtl).toBe(0);
    expect(accepted(doc(64)).hostTypes[0].messageTtl).toBe(64);
    expect(errorsOf(doc(-1))).toEqual([
      { path: 'hostTypes[0].messageTtl', message: 'must be an integer from 0 to 64' },
    ]);
    expect(errorsOf(doc(65))).toEqual([
      { path: 'hostTypes[0].messageTtl', message: 'must be an integer from 0 to 64' },
    ]);
    expect(integerRangesOf(HostTypeConfig).get('messageTtl')).toEqual({ min: 0, max: 64 });
  });

  it('bounds endpoint ports to 1..65535', () => {
    const doc = (port: unknown) => ({
      ...MINIMAL,
      datacenters: [{ localHost: 'dc1.example.com' }],
      endpointOverrides: { 'dc1.example.com': [{ host: '10.0.0.1', port }] },
    });
    expect(accepted(doc(1)).endpointOverrides['dc1.example.com'][0].port).toBe(1);
    expect(accepted(doc(65535)).endpointOverrides['dc1.example.com'][0].port).toBe(65535);
    for (const bad of [0, 65536, '5555', 5555.5]) {
      expect(errorsOf(doc(bad))).toEqual([
        {
          path: 'endpointOverrides["dc1.example.com"][0].port',
          message: 'must be an integer from 1 to 65535',
        },
      ]);
    }
    expect(integerRangesOf(EndpointConfig).get('port')).toEqual({ min: 1, max: 65535 });
  });
});

describe('booleans', () => {
  it.each([
    'connections.tls.enabled',
    'cache.cacheMissed',
    'bounce.enabled',
    'auth.jwt.requireExp',
    'auth.allowPlaintext',
  ])('%s takes true and false and nothing else', (path) => {
    expect(errorsOf(withValue(MINIMAL, path, true))).toEqual([]);
    expect(errorsOf(withValue(MINIMAL, path, false))).toEqual([]);
    for (const bad of ['true', 1, 0, null]) {
      expect(errorsOf(withValue(MINIMAL, path, bad))).toEqual([
        { path, message: 'must be true or false' },
      ]);
    }
  });

  it('reads the given value back', () => {
    const config = accepted(withValue(MINIMAL, 'connections.tls.enabled', false));
    expect(config.connections.tls.enabled).toBe(false);
  });
});

describe('previous keys of a rotation', () => {
  it('have no default, and each follows its current key in the canonical order', () => {
    const defaults = accepted(MINIMAL);
    expect(defaults.auth.jwt).not.toHaveProperty('previousSecret');
    expect(defaults.auth.jwt).not.toHaveProperty('previousPublicKey');
    const config = accepted({
      ...MINIMAL,
      components: [
        {
          previousSecret: 'old-secret-1',
          hidden: true,
          secret: 'new-secret-1',
          domain: 'muc.example.com',
        },
      ],
      auth: { jwt: { previousSecret: 'o'.repeat(32), requireExp: false, secret: 'n'.repeat(32) } },
    });
    expect(Object.keys(config.auth.jwt)).toEqual([
      'algorithm',
      'secret',
      'previousSecret',
      'usernameClaim',
      'requireExp',
    ]);
    expect(Object.keys(config.components[0]!)).toEqual([
      'domain',
      'secret',
      'previousSecret',
      'hidden',
    ]);
  });
});
