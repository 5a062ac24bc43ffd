import { exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import type { JwtDocument } from '#config';
import { JwtLoginVerifier } from './jwt-login';

const SECRET = 'a-test-secret-of-at-least-32-characters!!';
const NOW = 1_800_000_000;
const hs256: JwtDocument = {
  algorithm: 'HS256',
  secret: SECRET,
  usernameClaim: 'sub',
  requireExp: true,
};

function sign(payload: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

const verify = (token: string, user: string, config: JwtDocument = hs256, nowS = NOW) =>
  new JwtLoginVerifier().verify(token, user, config, nowS * 1000);

describe('JwtLoginVerifier', () => {
  it('accepts a token for the user, signed with the secret, within its validity', async () => {
    const token = await sign({ sub: 'alice', exp: NOW + 60, iat: NOW - 5, nbf: NOW - 5 });
    expect(await verify(token, 'alice')).toEqual({ ok: true });
  });

  it('compares the username claim case-insensitively, and reads the configured claim', async () => {
    expect(await verify(await sign({ sub: 'Alice', exp: NOW + 60 }), 'alice')).toEqual({
      ok: true,
    });
    const config = { ...hs256, usernameClaim: 'user' };
    expect(await verify(await sign({ user: 'bob', exp: NOW + 60 }), 'bob', config)).toEqual({
      ok: true,
    });
    expect(await verify(await sign({ sub: 'bob', exp: NOW + 60 }), 'bob', config)).toEqual({
      ok: false,
      reason: 'user-mismatch',
    });
  });

  it('refuses a token of another user', async () => {
    expect(await verify(await sign({ sub: 'mallory', exp: NOW + 60 }), 'alice')).toEqual({
      ok: false,
      reason: 'user-mismatch',
    });
  });

  it('refuses a token signed with another secret', async () => {
    const token = await sign(
      { sub: 'alice', exp: NOW + 60 },
      'another-secret-of-at-least-32-characters',
    );
    expect(await verify(token, 'alice')).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('honours exp with 30 s of leeway', async () => {
    expect(await verify(await sign({ sub: 'alice', exp: NOW - 20 }), 'alice')).toEqual({
      ok: true,
    });
    expect(await verify(await sign({ sub: 'alice', exp: NOW - 40 }), 'alice')).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('requires exp unless requireExp is false', async () => {
    const token = await sign({ sub: 'alice' });
    expect(await verify(token, 'alice')).toEqual({ ok: false, reason: 'missing-exp' });
    expect(await verify(token, 'alice', { ...hs256, requireExp: false })).toEqual({ ok: true });
  });

  it('honours nbf and iat with 30 s of leeway', async () => {
    expect(
      await verify(await sign({ sub: 'alice', exp: NOW + 600, nbf: NOW + 20 }), 'alice'),
    ).toEqual({
      ok: true,
    });
    expect(
      await verify(await sign({ sub: 'alice', exp: NOW + 600, nbf: NOW + 60 }), 'alice'),
    ).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });
    expect(
      await verify(await sign({ sub: 'alice', exp: NOW + 600, iat: NOW + 60 }), 'alice'),
    ).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });
  });

  it('refuses another algorithm than the configured one, and unsigned tokens', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const es256 = await new SignJWT({ sub: 'alice', exp: NOW + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey);
    expect(await verify(es256, 'alice')).toEqual({ ok: false, reason: 'wrong-algorithm' });
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'alice', exp: NOW + 60 })).toString('base64url');
    expect(await verify(`${header}.${body}.`, 'alice')).toEqual({
      ok: false,
      reason: 'wrong-algorithm',
    });
  });

  it('verifies RS256 and ES256 with the configured public key', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const config: JwtDocument = {
        algorithm: alg,
        publicKey: await exportSPKI(publicKey),
        usernameClaim: 'sub',
        requireExp: true,
      };
      const token = await new SignJWT({ sub: 'alice', exp: NOW + 60 })
        .setProtectedHeader({ alg })
        .sign(privateKey);
      expect(await verify(token, 'alice', config)).toEqual({ ok: true });
      const hsToken = await sign({ sub: 'alice', exp: NOW + 60 });
      expect(await verify(hsToken, 'alice', config)).toEqual({
        ok: false,
        reason: 'wrong-algorithm',
      });
    }
  });

  it('fails every login while no key is configured, and on garbage', async () => {
    const token = await sign({ sub: 'alice', exp: NOW + 60 });
    expect(await verify(token, 'alice', { ...hs256, secret: undefined })).toEqual({
      ok: false,
      reason: 'no-key',
    });
    expect(await verify('not a token', 'alice')).toEqual({ ok: false, reason: 'malformed-token' });
  });
});
