import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash } from './config-hash';
import { diffConfigs } from './config-diff';
import type { MeridianConfigDocument } from './documents';
import { REDACTED, redactConfig, restoreRedactedSecrets } from './secrets';
import { defaultConfig, validateConfig } from './validate-config';

function valid(input: unknown, context = {}): MeridianConfigDocument {
  const result = validateConfig(input, context);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const JWT_SECRET = 'j'.repeat(40);

const FULL = valid({
  globalHost: 'example.com',
  datacenters: [
    { localHost: 'dc1.example.com', region: 'eu', labels: { tier: 'gold' } },
    { localHost: 'dc2.example.com', region: 'us' },
    { localHost: 'dc3.example.com' },
  ],
  endpointOverrides: { 'dc2.example.com': [{ host: '10.0.0.2', port: 5555 }] },
  hostTypes: [{ name: 'default' }, { name: 'premium', messageTtl: 2 }],
  components: [
    { domain: 'muc.example.com', secret: 'muc-secret' },
    { domain: 'pubsub.example.com', secret: 'pubsub-secret', hidden: true },
  ],
  auth: { jwt: { secret: JWT_SECRET } },
});

describe('redactConfig', () => {
  it('replaces the JWT secret and every component secret', () => {
    const redacted = redactConfig(FULL);
    expect(redacted.auth.jwt.secret).toBe(REDACTED);
    expect(redacted.components.map((c) => c.secret)).toEqual([REDACTED, REDACTED]);
    expect(JSON.stringify(redacted)).not.toMatch(/muc-secret|pubsub-secret|jjjj/);
  });

  it('leaves everything else, including a public key, as it was', () => {
    const redacted = redactConfig(FULL);
    expect({ ...redacted, auth: FULL.auth, components: FULL.components }).toEqual(FULL);
    expect(redacted.components.map((c) => c.domain)).toEqual([
      'muc.example.com',
      'pubsub.example.com',
    ]);
  });

  it('does not add a secret that is absent', () => {
    expect(redactConfig(defaultConfig('example.com')).auth.jwt).not.toHaveProperty('secret');
  });

  it('never modifies its input', () => {
    const before = structuredClone(FULL);
    redactConfig(FULL);
    expect(FULL).toEqual(before);
  });
});

describe('restoreRedactedSecrets', () => {
  it('round-trips: a redacted document sent back validates to the stored one', () => {
    const restored = restoreRedactedSecrets(redactConfig(FULL), FULL);
    expect(valid(restored)).toEqual(FULL);
  });

  it('matches components by domain, whatever their order and case', () => {
    const incoming = {
      ...redactConfig(FULL),
      components: [
        { domain: 'PubSub.example.com', secret: REDACTED, hidden: true },
        { domain: 'muc.example.com', secret: REDACTED },
      ],
    };
    const restored = restoreRedactedSecrets(incoming, FULL) as MeridianConfigDocument;
    expect(restored.components.map((c) => c.secret)).toEqual(['pubsub-secret', 'muc-secret']);
  });

  it('keeps a newly given secret', () => {
    const incoming = { ...redactConfig(FULL), auth: { jwt: { secret: 'n'.repeat(40) } } };
    expect(valid(restoreRedactedSecrets(incoming, FULL)).auth.jwt.secret).toBe('n'.repeat(40));
  });

  it('leaves a placeholder with nothing stored, which validation then refuses', () => {
    const incoming = {
      globalHost: 'example.com',
      components: [{ domain: 'new.example.com', secret: REDACTED }],
      auth: { jwt: { secret: REDACTED } },
    };
    const stored = defaultConfig('example.com');
    const restored = restoreRedactedSecrets(incoming, stored);
    expect(restored).toEqual(incoming);
    expect(validateConfig(restored)).toEqual({
      ok: false,
      errors: [
        { path: 'auth.jwt.secret', message: 'redacted placeholder given but no stored secret' },
        {
          path: 'components[0].secret',
          message: 'redacted placeholder given but no stored secret',
        },
      ],
    });
    expect(restoreRedactedSecrets(incoming, null)).toBe(incoming);
  });

  it('never modifies its input, and returns it unchanged when there is nothing to restore', () => {
    const incoming = redactConfig(FULL);
    const copy = structuredClone(incoming);
    restoreRedactedSecrets(incoming, FULL);
    expect(incoming).toEqual(copy);
    const plain = { globalHost: 'example.com' };
    expect(restoreRedactedSecrets(plain, FULL)).toBe(plain);
  });

  it('passes through input of any shape without throwing', () => {
    for (const odd of [
      null,
      5,
      'x',
      [],
      { auth: 5 },
      { auth: { jwt: null } },
      { components: [null, 5, { secret: REDACTED }] },
    ]) {
      expect(restoreRedactedSecrets(odd, FULL)).toEqual(odd);
    }
  });
});

describe('configHash', () => {
  it('is a sha256 hex digest', () => {
    expect(configHash(FULL)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order at any level', () => {
    const reordered = JSON.parse(
      JSON.stringify(FULL, (_key, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).reverse())
          : value,
      ),
    ) as MeridianConfigDocument;
    expect(Object.keys(reordered)[0]).toBe('limits');
    expect(configHash(reordered)).toBe(configHash(FULL));
  });

  it('changes with any option, including a secret', () => {
    const changed = structuredClone(FULL);
    changed.cache.maxJids += 1;
    expect(configHash(changed)).not.toBe(configHash(FULL));
    const newSecret = structuredClone(FULL);
    newSecret.components[0].secret = 'other-secret';
    expect(configHash(newSecret)).not.toBe(configHash(FULL));
  });

  it('is the same for documents that validate to the same configuration', () => {
    const a = valid({
      globalHost: 'Example.com',
      datacenters: [{ localHost: 'b.example.com' }, { localHost: 'a.example.com' }],
    });
    const b = valid({
      datacenters: [{ localHost: 'a.example.com' }, { localHost: 'B.example.com' }],
      globalHost: 'example.com',
      messageTtl: 4,
    });
    expect(configHash(a)).toBe(configHash(b));
  });

  it('serialises with sorted keys and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }, 3] })).toBe('{"a":[{"c":2,"d":1},3],"b":1}');
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });
});

describe('diffConfigs', () => {
  it('lists every top-level option as added when there is no previous revision', () => {
    const changes = diffConfigs(null, FULL);
    expect(changes.map((c) => c.op)).toEqual(Array(12).fill('add'));
    expect(changes[0]).toEqual({ op: 'add', path: 'globalHost', after: 'example.com' });
    expect(changes.find((c) => c.path === 'components')?.after).toEqual([
      { domain: 'muc.example.com', secret: REDACTED, hidden: false },
      { domain: 'pubsub.example.com', secret: REDACTED, hidden: true },
    ]);
  });

  it('is empty for equal documents', () => {
    expect(diffConfigs(FULL, structuredClone(FULL))).toEqual([]);
  });

  it('reports scalar changes with dotted paths', () => {
    const after = structuredClone(FULL);
    after.messageTtl = 2;
    after.connections.tls.enabled = false;
    expect(diffConfigs(FULL, after)).toEqual([
      { op: 'change', path: 'messageTtl', before: 4, after: 2 },
      { op: 'change', path: 'connections.tls.enabled', before: true, after: false },
    ]);
  });

  it('reports a datacenter removed from the middle as one removal, by name', () => {
    const after = structuredClone(FULL);
    after.datacenters.splice(1, 1);
    delete after.endpointOverrides['dc2.example.com'];
    expect(diffConfigs(FULL, after)).toEqual([
      {
        op: 'remove',
        path: 'datacenters["dc2.example.com"]',
        before: { localHost: 'dc2.example.com', region: 'us' },
      },
      {
        op: 'remove',
        path: 'endpointOverrides["dc2.example.com"]',
        before: [{ host: '10.0.0.2', port: 5555 }],
      },
    ]);
  });

  it('addresses fields of keyed elements by name, and labels by label name', () => {
    const after = structuredClone(FULL);
    after.datacenters[0].labels = { tier: 'silver', zone: 'a' };
    after.datacenters[2].region = 'ap';
    after.hostTypes[1].isolated = true;
    after.components[1].hidden = false;
    expect(diffConfigs(FULL, after)).toEqual([
      {
        op: 'change',
        path: 'datacenters["dc1.example.com"].labels["tier"]',
        before: 'gold',
        after: 'silver',
      },
      { op: 'add', path: 'datacenters["dc1.example.com"].labels["zone"]', after: 'a' },
      { op: 'add', path: 'datacenters["dc3.example.com"].region', after: 'ap' },
      { op: 'change', path: 'hostTypes["premium"].isolated', before: false, after: true },
      { op: 'change', path: 'components["pubsub.example.com"].hidden', before: true, after: false },
    ]);
  });

  it('is not confused by reordering', () => {
    const after = structuredClone(FULL);
    after.datacenters.reverse();
    after.hostTypes.reverse();
    after.components.reverse();
    expect(diffConfigs(FULL, after)).toEqual([]);
  });

  it('compares an endpoint list as a whole', () => {
    const after = structuredClone(FULL);
    after.endpointOverrides['dc2.example.com'] = [
      { host: '10.0.0.9', port: 5555 },
      { host: '10.0.0.2', port: 5555 },
    ];
    expect(diffConfigs(FULL, after)).toEqual([
      {
        op: 'change',
        path: 'endpointOverrides["dc2.example.com"]',
        before: [{ host: '10.0.0.2', port: 5555 }],
        after: [
          { host: '10.0.0.9', port: 5555 },
          { host: '10.0.0.2', port: 5555 },
        ],
      },
    ]);
  });

  it('shows a changed secret as a change between two redacted values', () => {
    const after = structuredClone(FULL);
    after.auth.jwt.secret = 'k'.repeat(40);
    after.components[0].secret = 'new-muc-secret';
    const changes = diffConfigs(FULL, after);
    expect(changes).toEqual([
      {
        op: 'change',
        path: 'components["muc.example.com"].secret',
        before: REDACTED,
        after: REDACTED,
      },
      { op: 'change', path: 'auth.jwt.secret', before: REDACTED, after: REDACTED },
    ]);
  });

  it('never shows a secret, whether added, removed or inside an added component', () => {
    const after = structuredClone(FULL);
    delete after.auth.jwt.secret;
    after.components.push({ domain: 'upload.example.com', secret: 'upload-secret', hidden: false });
    const changes = diffConfigs(FULL, after);
    expect(changes).toEqual([
      {
        op: 'add',
        path: 'components["upload.example.com"]',
        after: { domain: 'upload.example.com', secret: REDACTED, hidden: false },
      },
      { op: 'remove', path: 'auth.jwt.secret', before: REDACTED },
    ]);
    const back = diffConfigs(after, FULL);
    expect(back).toContainEqual({ op: 'add', path: 'auth.jwt.secret', after: REDACTED });
    expect(JSON.stringify([changes, back])).not.toMatch(/secret"?:"[^*]/);
  });

  it('handles names that look like object prototype properties', () => {
    const before = valid({
      globalHost: 'example.com',
      hostTypes: [{ name: 'default' }, { name: 'constructor' }],
    });
    const after = valid({
      globalHost: 'example.com',
      hostTypes: [{ name: 'default' }, { name: 'toString' }],
    });
    expect(diffConfigs(before, after)).toEqual([
      {
        op: 'remove',
        path: 'hostTypes["constructor"]',
        before: { name: 'constructor', isolated: false },
      },
      { op: 'add', path: 'hostTypes["toString"]', after: { name: 'toString', isolated: false } },
    ]);
  });

  it('does not modify its inputs', () => {
    const before = structuredClone(FULL);
    const after = structuredClone(FULL);
    after.auth.jwt.secret = 'k'.repeat(40);
    const afterCopy = structuredClone(after);
    diffConfigs(before, after);
    expect(before).toEqual(FULL);
    expect(after).toEqual(afterCopy);
  });
});
