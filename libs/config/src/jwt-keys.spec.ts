import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { publicKeyProblem } from './jwt-keys';
import { validateConfig } from './validate-config';

function spki(type: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519', options: Record<string, unknown> = {}) {
  const pair = generateKeyPairSync(
    type as 'rsa',
    {
      ...options,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    } as never,
  ) as unknown as { publicKey: string; privateKey: string };
  return pair;
}

function jwtErrors(jwt: Record<string, unknown>) {
  const result = validateConfig({ globalHost: 'example.com', auth: { jwt } });
  return result.ok ? [] : result.errors;
}

const keys = {} as Record<
  'rsa2048' | 'rsa1024' | 'rsaPss' | 'p256' | 'p384' | 'ed25519',
  { publicKey: string; privateKey: string }
>;

beforeAll(() => {
  keys.rsa2048 = spki('rsa', { modulusLength: 2048 });
  keys.rsa1024 = spki('rsa', { modulusLength: 1024 });
  keys.rsaPss = spki('rsa-pss', { modulusLength: 2048 });
  keys.p256 = spki('ec', { namedCurve: 'P-256' });
  keys.p384 = spki('ec', { namedCurve: 'P-384' });
  keys.ed25519 = spki('ed25519');
});

describe('HS256', () => {
  it('may go without a secret (logins fail until one is set)', () => {
    expect(jwtErrors({})).toEqual([]);
    expect(jwtErrors({ algorithm: 'HS256' })).toEqual([]);
  });

  it('takes a secret of 32 characters or more', () => {
    expect(jwtErrors({ secret: 'x'.repeat(32) })).toEqual([]);
    expect(jwtErrors({ secret: 'x'.repeat(4096) })).toEqual([]);
    expect(jwtErrors({ secret: 'x'.repeat(31) })).toEqual([
      { path: 'auth.jwt.secret', message: 'must be at least 32 characters long' },
    ]);
    expect(jwtErrors({ secret: 'x'.repeat(4097) })).toEqual([
      { path: 'auth.jwt.secret', message: 'must be at most 4096 characters long' },
    ]);
    expect(jwtErrors({ secret: 42 })).toEqual([
      { path: 'auth.jwt.secret', message: 'must be a string' },
    ]);
  });

  it('keeps the secret in the result', () => {
    const result = validateConfig({
      globalHost: 'example.com',
      auth: { jwt: { secret: 's'.repeat(40) } },
    });
    expect(result.ok && result.config.auth.jwt).toEqual({
      algorithm: 'HS256',
      secret: 's'.repeat(40),
      usernameClaim: 'sub',
      requireExp: true,
    });
  });

  it('refuses a public key', () => {
    expect(jwtErrors({ algorithm: 'HS256', publicKey: keys.rsa2048.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must not be set when algorithm is HS256 (it verifies with secret)',
      },
    ]);
  });
});

describe('RS256', () => {
  it('takes an RSA public key of 2048 bits', () => {
    expect(jwtErrors({ algorithm: 'RS256', publicKey: keys.rsa2048.publicKey })).toEqual([]);
    const result = validateConfig({
      globalHost: 'example.com',
      auth: { jwt: { algorithm: 'RS256', publicKey: keys.rsa2048.publicKey } },
    });
    expect(result.ok && result.config.auth.jwt.publicKey).toBe(keys.rsa2048.publicKey);
  });

  it('requires the public key', () => {
    expect(jwtErrors({ algorithm: 'RS256' })).toEqual([
      { path: 'auth.jwt.publicKey', message: 'is required when algorithm is RS256' },
    ]);
  });

  it('refuses a secret beside the key', () => {
    expect(
      jwtErrors({ algorithm: 'RS256', publicKey: keys.rsa2048.publicKey, secret: 'x'.repeat(40) }),
    ).toEqual([
      {
        path: 'auth.jwt.secret',
        message: 'must not be set when algorithm is RS256 (it verifies with publicKey)',
      },
    ]);
  });

  it('refuses keys of other types and short RSA keys', () => {
    expect(jwtErrors({ algorithm: 'RS256', publicKey: keys.p256.publicKey })).toEqual([
      { path: 'auth.jwt.publicKey', message: 'must be an RSA key for RS256 (this is a ec key)' },
    ]);
    expect(jwtErrors({ algorithm: 'RS256', publicKey: keys.rsaPss.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must be an RSA key for RS256 (this is a rsa-pss key)',
      },
    ]);
    expect(jwtErrors({ algorithm: 'RS256', publicKey: keys.rsa1024.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must be an RSA key of at least 2048 bits (this one has 1024)',
      },
    ]);
  });
});

describe('ES256', () => {
  it('takes a P-256 public key', () => {
    expect(jwtErrors({ algorithm: 'ES256', publicKey: keys.p256.publicKey })).toEqual([]);
  });

  it('refuses P-384, RSA and Ed25519 keys', () => {
    expect(jwtErrors({ algorithm: 'ES256', publicKey: keys.p384.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must be on curve P-256 (prime256v1) for ES256 (this one is on secp384r1)',
      },
    ]);
    expect(jwtErrors({ algorithm: 'ES256', publicKey: keys.rsa2048.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must be an EC P-256 key for ES256 (this is a rsa key)',
      },
    ]);
    expect(jwtErrors({ algorithm: 'ES256', publicKey: keys.ed25519.publicKey })).toEqual([
      {
        path: 'auth.jwt.publicKey',
        message: 'must be an EC P-256 key for ES256 (this is a ed25519 key)',
      },
    ]);
  });

  it('requires the public key and refuses a secret', () => {
    expect(jwtErrors({ algorithm: 'ES256', secret: 'x'.repeat(40) })).toEqual([
      {
        path: 'auth.jwt.secret',
        message: 'must not be set when algorithm is ES256 (it verifies with publicKey)',
      },
      { path: 'auth.jwt.publicKey', message: 'is required when algorithm is ES256' },
    ]);
  });
});

describe('what counts as a PEM public key', () => {
  it('refuses a private key, even though a public key could be derived from it', () => {
    expect(publicKeyProblem(keys.p256.privateKey, 'ES256')).toMatch(/^is a private key/);
    expect(publicKeyProblem(keys.rsa2048.privateKey, 'RS256')).toMatch(/^is a private key/);
  });

  it('refuses text that is not one SPKI PEM block', () => {
    const notPem =
      'must be one PEM public key ("-----BEGIN PUBLIC KEY-----" ... "-----END PUBLIC KEY-----")';
    expect(publicKeyProblem('hello', 'RS256')).toBe(notPem);
    expect(publicKeyProblem(keys.rsa2048.publicKey + keys.rsa2048.publicKey, 'RS256')).toBe(notPem);
    const pkcs1 = keys.rsa2048.publicKey.replace(/PUBLIC KEY/g, 'RSA PUBLIC KEY');
    expect(publicKeyProblem(pkcs1, 'RS256')).toBe(notPem);
  });

  it('refuses a well-formed block holding garbage', () => {
    const garbage = '-----BEGIN PUBLIC KEY-----\nAAAAAAAAAAAAAAAA\n-----END PUBLIC KEY-----\n';
    expect(publicKeyProblem(garbage, 'RS256')).toBe('is not a readable PEM public key');
  });

  it('accepts surrounding whitespace and CRLF line ends', () => {
    expect(
      publicKeyProblem(`\n  ${keys.p256.publicKey.replace(/\n/g, '\r\n')}  \n`, 'ES256'),
    ).toBeNull();
  });

  it('refuses a key that is not a string, and a key over 16384 characters', () => {
    expect(jwtErrors({ algorithm: 'RS256', publicKey: 5 })).toEqual([
      { path: 'auth.jwt.publicKey', message: 'must be a string' },
    ]);
    expect(jwtErrors({ algorithm: 'RS256', publicKey: 'x'.repeat(16385) })).toEqual([
      { path: 'auth.jwt.publicKey', message: 'must be at most 16384 characters long' },
    ]);
  });

  it('reports only the algorithm when the algorithm is unknown', () => {
    expect(jwtErrors({ algorithm: 'PS256', publicKey: keys.rsa2048.publicKey })).toEqual([
      { path: 'auth.jwt.algorithm', message: 'must be one of: "HS256", "RS256", "ES256"' },
    ]);
  });
});

describe('public key normalisation', () => {
  it('stores the key trimmed, with one final newline, so indentation from YAML does not break it', () => {
    const indented = `\n    ${keys.p256.publicKey.trimEnd()}   `;
    const result = validateConfig({
      globalHost: 'example.com',
      auth: { jwt: { algorithm: 'ES256', publicKey: indented } },
    });
    expect(result.ok && result.config.auth.jwt.publicKey).toBe(keys.p256.publicKey);
  });
});

describe('previous keys during a rotation', () => {
  const current = 'c'.repeat(40);

  it('takes an HS256 previousSecret beside the secret, with the same rules, and keeps it', () => {
    expect(jwtErrors({ secret: current, previousSecret: 'p'.repeat(32) })).toEqual([]);
    const result = validateConfig({
      globalHost: 'example.com',
      auth: { jwt: { secret: current, previousSecret: 'p'.repeat(40) } },
    });
    expect(result.ok && result.config.auth.jwt).toEqual({
      algorithm: 'HS256',
      secret: current,
      previousSecret: 'p'.repeat(40),
      usernameClaim: 'sub',
      requireExp: true,
    });
    expect(jwtErrors({ secret: current, previousSecret: 'p'.repeat(31) })).toEqual([
      { path: 'auth.jwt.previousSecret', message: 'must be at least 32 characters long' },
    ]);
    expect(jwtErrors({ secret: current, previousSecret: 'p'.repeat(4097) })).toEqual([
      { path: 'auth.jwt.previousSecret', message: 'must be at most 4096 characters long' },
    ]);
    expect(jwtErrors({ secret: current, previousSecret: 7 })).toEqual([
      { path: 'auth.jwt.previousSecret', message: 'must be a string' },
    ]);
  });

  it('refuses a previousSecret without a secret, or equal to it', () => {
    expect(jwtErrors({ previousSecret: 'p'.repeat(40) })).toEqual([
      { path: 'auth.jwt.previousSecret', message: 'must not be set without secret' },
    ]);
    expect(jwtErrors({ secret: current, previousSecret: current })).toEqual([
      { path: 'auth.jwt.previousSecret', message: 'must differ from secret' },
    ]);
  });

  it('takes a previousPublicKey of the same algorithm beside the public key, and keeps it trimmed', () => {
    const result = validateConfig({
      globalHost: 'example.com',
      auth: {
        jwt: {
          algorithm: 'ES256',
          publicKey: keys.p256.publicKey,
          previousPublicKey: `  ${spki('ec', { namedCurve: 'P-256' }).publicKey}  `,
        },
      },
    });
    expect(result.ok).toBe(true);
    expect(result.ok && result.config.auth.jwt.previousPublicKey).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/,
    );
    expect(
      jwtErrors({
        algorithm: 'RS256',
        publicKey: keys.rsa2048.publicKey,
        previousPublicKey: spki('rsa', { modulusLength: 2048 }).publicKey,
      }),
    ).toEqual([]);
  });

  it('checks the previousPublicKey as the public key: type, size, curve, private keys', () => {
    const withPrevious = (algorithm: string, previousPublicKey: unknown) =>
      jwtErrors({
        algorithm,
        publicKey: algorithm === 'RS256' ? keys.rsa2048.publicKey : keys.p256.publicKey,
        previousPublicKey,
      });
    expect(withPrevious('RS256', keys.p256.publicKey)).toEqual([
      {
        path: 'auth.jwt.previousPublicKey',
        message: 'must be an RSA key for RS256 (this is a ec key)',
      },
    ]);
    expect(withPrevious('RS256', keys.rsa1024.publicKey)).toEqual([
      {
        path: 'auth.jwt.previousPublicKey',
        message: 'must be an RSA key of at least 2048 bits (this one has 1024)',
      },
    ]);
    expect(withPrevious('ES256', keys.p384.publicKey)).toEqual([
      {
        path: 'auth.jwt.previousPublicKey',
        message: 'must be on curve P-256 (prime256v1) for ES256 (this one is on secp384r1)',
      },
    ]);
    expect(withPrevious('ES256', keys.p256.privateKey)[0]?.message).toMatch(/^is a private key/);
    expect(withPrevious('ES256', 5)).toEqual([
      { path: 'auth.jwt.previousPublicKey', message: 'must be a string' },
    ]);
    expect(withPrevious('ES256', 'x'.repeat(16385))).toEqual([
      { path: 'auth.jwt.previousPublicKey', message: 'must be at most 16384 characters long' },
    ]);
    expect(withPrevious('ES256', `${keys.p256.publicKey}\n\n`)).toEqual([
      { path: 'auth.jwt.previousPublicKey', message: 'must differ from publicKey' },
    ]);
  });

  it('pairs each previous key with its algorithm, as the current keys are', () => {
    expect(jwtErrors({ secret: current, previousPublicKey: keys.rsa2048.publicKey })).toEqual([
      {
        path: 'auth.jwt.previousPublicKey',
        message: 'must not be set when algorithm is HS256 (the previous key is previousSecret)',
      },
    ]);
    expect(
      jwtErrors({
        algorithm: 'RS256',
        publicKey: keys.rsa2048.publicKey,
        previousSecret: 'p'.repeat(40),
      }),
    ).toEqual([
      {
        path: 'auth.jwt.previousSecret',
        message: 'must not be set when algorithm is RS256 (the previous key is previousPublicKey)',
      },
    ]);
    expect(jwtErrors({ algorithm: 'ES256', previousPublicKey: keys.p256.publicKey })).toEqual([
      { path: 'auth.jwt.publicKey', message: 'is required when algorithm is ES256' },
      { path: 'auth.jwt.previousPublicKey', message: 'must not be set without publicKey' },
    ]);
  });
});
