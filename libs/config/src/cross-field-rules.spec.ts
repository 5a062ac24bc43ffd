import { describe, expect, it } from 'vitest';
import { validateConfig, type ConfigContext } from './validate-config';

function errorsOf(input: unknown, context?: ConfigContext) {
  const result = validateConfig(input, context);
  return result.ok ? [] : result.errors;
}

const BASE = {
  globalHost: 'example.com',
  datacenters: [{ localHost: 'dc1.example.com' }, { localHost: 'dc2.example.com' }],
};

describe('datacenters', () => {
  it('accepts distinct local hosts, and returns them sorted', () => {
    const result = validateConfig({
      globalHost: 'example.com',
      datacenters: [
        { localHost: 'dc2.example.com' },
        { localHost: 'dc1.example.com' },
        { localHost: 'dc10.example.com' },
      ],
    });
    expect(result.ok && result.config.datacenters.map((d) => d.localHost)).toEqual([
      'dc1.example.com',
      'dc10.example.com',
      'dc2.example.com',
    ]);
  });

  it('refuses a repeated local host, also when only the case differs', () => {
    expect(
      errorsOf({
        globalHost: 'example.com',
        datacenters: [
          { localHost: 'dc1.example.com' },
          { localHost: 'dc2.example.com' },
          { localHost: 'DC1.example.com' },
        ],
      }),
    ).toEqual([
      { path: 'datacenters[2].localHost', message: 'duplicates datacenters[0].localHost' },
    ]);
  });

  it('refuses the global host as a local host', () => {
    expect(
      errorsOf({ globalHost: 'example.com', datacenters: [{ localHost: 'Example.com' }] }),
    ).toEqual([{ path: 'datacenters[0].localHost', message: 'must differ from globalHost' }]);
  });

  it('refuses a served dynamic domain as a local host', () => {
    const context = { extraServedDomains: ['Tenant.example.net'] };
    expect(
      errorsOf(
        { globalHost: 'example.com', datacenters: [{ localHost: 'tenant.example.net' }] },
        context,
      ),
    ).toEqual([
      {
        path: 'datacenters[0].localHost',
        message: 'must differ from the served (dynamic) domains',
      },
    ]);
    expect(
      errorsOf({ globalHost: 'example.com', datacenters: [{ localHost: 'tenant.example.net' }] }),
    ).toEqual([]);
  });

  it('accepts any iterable of served domains', () => {
    const served = new Set(['tenant.example.net']);
    expect(
      errorsOf(
        { globalHost: 'example.com', datacenters: [{ localHost: 'tenant.example.net' }] },
        { extraServedDomains: served.values() },
      ),
    ).toHaveLength(1);
  });
});

describe('endpointOverrides', () => {
  it('accepts overrides for datacenters of the document', () => {
    expect(
      errorsOf({
        ...BASE,
        endpointOverrides: { 'DC2.example.com': [{ host: '127.0.0.1', port: 5556 }] },
      }),
    ).toEqual([]);
  });

  it('refuses an override for a datacenter that is not in the document', () => {
    expect(
      errorsOf({
        ...BASE,
        endpointOverrides: { 'dc9.example.com': [{ host: '127.0.0.1', port: 5556 }] },
      }),
    ).toEqual([
      {
        path: 'endpointOverrides["dc9.example.com"]',
        message: 'is not the localHost of a datacenter in this configuration',
      },
    ]);
  });
});

describe('hostTypes', () => {
  it('accepts distinct names including "default"', () => {
    expect(
      errorsOf({ ...BASE, hostTypes: [{ name: 'premium', isolated: true }, { name: 'default' }] }),
    ).toEqual([]);
  });

  it('refuses a repeated name', () => {
    expect(
      errorsOf({ ...BASE, hostTypes: [{ name: 'default' }, { name: 'b' }, { name: 'b' }] }),
    ).toEqual([{ path: 'hostTypes[2].name', message: 'duplicates hostTypes[1].name' }]);
  });

  it('treats names as case-sensitive', () => {
    expect(
      errorsOf({ ...BASE, hostTypes: [{ name: 'default' }, { name: 'B' }, { name: 'b' }] }),
    ).toEqual([]);
  });

  it('requires "default", also when the list is empty', () => {
    const missing = [{ path: 'hostTypes', message: 'must include a host type named "default"' }];
    expect(errorsOf({ ...BASE, hostTypes: [] })).toEqual(missing);
    expect(errorsOf({ ...BASE, hostTypes: [{ name: 'Default' }] })).toEqual(missing);
  });

  it('sorts host types by name in the result', () => {
    const result = validateConfig({
      ...BASE,
      hostTypes: [{ name: 'premium' }, { name: 'default' }, { name: 'basic' }],
    });
    expect(result.ok && result.config.hostTypes.map((h) => h.name)).toEqual([
      'basic',
      'default',
      'premium',
    ]);
  });
});

describe('components', () => {
  const component = (domain: string, extra: Record<string, unknown> = {}) => ({
    domain,
    secret: 'secret-1',
    ...extra,
  });

  it('accepts subdomains of the global host at any depth, and sorts them', () => {
    const result = validateConfig({
      ...BASE,
      components: [
        component('pubsub.example.com'),
        component('a.b.muc.example.com'),
        component('MUC.example.com'),
      ],
    });
    expect(result.ok && result.config.components.map((c) => c.domain)).toEqual([
      'a.b.muc.example.com',
      'muc.example.com',
      'pubsub.example.com',
    ]);
  });

  it('accepts subdomains of served dynamic domains', () => {
    const context = { extraServedDomains: ['tenant.example.net'] };
    expect(
      errorsOf({ ...BASE, components: [component('muc.tenant.example.net')] }, context),
    ).toEqual([]);
  });

  it('refuses domains outside the global host and served domains', () => {
    const context = { extraServedDomains: ['tenant.example.net'] };
    const expected = (i: number) => ({
      path: `components[${i}].domain`,
      message: 'must be a subdomain of globalHost or of a served domain',
    });
    expect(
      errorsOf(
        {
          ...BASE,
          components: [
            component('muc.example.org'),
            component('muc.other.example.net'),
            component('notexample.com'),
          ],
        },
        context,
      ),
    ).toEqual([expected(0), expected(1), expected(2)]);
  });

  it('refuses the global host or a served domain itself', () => {
    const context = { extraServedDomains: ['tenant.example.com'] };
    const message = 'must not be a served domain itself; use a subdomain of one';
    expect(
      errorsOf(
        { ...BASE, components: [component('example.com'), component('tenant.example.com')] },
        context,
      ),
    ).toEqual([
      { path: 'components[0].domain', message },
      { path: 'components[1].domain', message },
    ]);
  });

  it('refuses a datacenter local host', () => {
    expect(errorsOf({ ...BASE, components: [component('dc2.example.com')] })).toEqual([
      { path: 'components[0].domain', message: 'must differ from every datacenter localHost' },
    ]);
  });

  it('refuses a repeated domain', () => {
    expect(
      errorsOf({
        ...BASE,
        components: [component('muc.example.com'), component('Muc.Example.com')],
      }),
    ).toEqual([{ path: 'components[1].domain', message: 'duplicates components[0].domain' }]);
  });

  it('requires a secret of at least 8 characters', () => {
    expect(
      errorsOf({ ...BASE, components: [component('muc.example.com', { secret: '12345678' })] }),
    ).toEqual([]);
    expect(
      errorsOf({ ...BASE, components: [component('muc.example.com', { secret: '1234567' })] }),
    ).toEqual([{ path: 'components[0].secret', message: 'must be at least 8 characters long' }]);
    expect(errorsOf({ ...BASE, components: [{ domain: 'muc.example.com' }] })).toEqual([
      { path: 'components[0].secret', message: 'is required' },
    ]);
    expect(
      errorsOf({ ...BASE, components: [component('muc.example.com', { secret: 12345678 })] }),
    ).toEqual([{ path: 'components[0].secret', message: 'must be a string' }]);
  });

  it('is not checked against the global host while the global host itself is invalid', () => {
    expect(
      errorsOf({ globalHost: 'bad host', components: [component('muc.example.com')] }),
    ).toEqual([{ path: 'globalHost', message: 'must be a valid domain name' }]);
  });
});

describe('redis', () => {
  it('requires refreshAfterS < expireAfterS', () => {
    expect(errorsOf({ ...BASE, redis: { expireAfterS: 10, refreshAfterS: 9 } })).toEqual([]);
    expect(errorsOf({ ...BASE, redis: { expireAfterS: 10, refreshAfterS: 10 } })).toEqual([
      { path: 'redis.refreshAfterS', message: 'must be less than expireAfterS (10)' },
    ]);
    expect(errorsOf({ ...BASE, redis: { expireAfterS: 10 } })).toEqual([
      { path: 'redis.refreshAfterS', message: 'must be less than expireAfterS (10)' },
    ]);
  });

  it('stays silent while expireAfterS is itself out of range', () => {
    expect(errorsOf({ ...BASE, redis: { expireAfterS: 1 } })).toEqual([
      { path: 'redis.expireAfterS', message: 'must be an integer from 5 to 86400' },
    ]);
  });

  it('does not tie cache lifetimes to the redis expiry', () => {
    expect(
      errorsOf({
        ...BASE,
        cache: { jidLifetimeS: 86400, domainLifetimeS: 86400 },
        redis: { expireAfterS: 5, refreshAfterS: 1 },
      }),
    ).toEqual([]);
  });
});

describe('limits', () => {
  it('requires preAuthStanzaBytes <= maxStanzaBytes', () => {
    expect(
      errorsOf({ ...BASE, limits: { maxStanzaBytes: 8192, preAuthStanzaBytes: 8192 } }),
    ).toEqual([]);
    expect(errorsOf({ ...BASE, limits: { maxStanzaBytes: 8191 } })).toEqual([
      {
        path: 'limits.preAuthStanzaBytes',
        message: 'must not be greater than maxStanzaBytes (8191)',
      },
    ]);
  });
});

describe('redacted placeholders', () => {
  it('are refused where no stored secret was put back', () => {
    expect(
      errorsOf({
        ...BASE,
        components: [{ domain: 'muc.example.com', secret: '**redacted**' }],
        auth: { jwt: { secret: '**redacted**' } },
      }),
    ).toEqual([
      { path: 'auth.jwt.secret', message: 'redacted placeholder given but no stored secret' },
      { path: 'components[0].secret', message: 'redacted placeholder given but no stored secret' },
    ]);
  });
});
