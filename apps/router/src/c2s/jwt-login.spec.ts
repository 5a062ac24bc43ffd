import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
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

describe('JwtLoginVerifier during a key rotation', () => {
  const OLD_SECRET = 'the-old-secret-of-at-least-32-characters';
  const rotating: JwtDocument = { ...hs256, previousSecret: OLD_SECRET };

  it('accepts HS256 tokens of the current and of the previous secret while both are set', async () => {
    const current = await sign({ sub: 'alice', exp: NOW + 60 });
    const previous = await sign({ sub: 'alice', exp: NOW + 60 }, OLD_SECRET);
    const verifier = new JwtLoginVerifier();
    expect(await verifier.verify(current, 'alice', rotating, NOW * 1000)).toEqual({ ok: true });
    expect(await verifier.verify(previous, 'alice', rotating, NOW * 1000)).toEqual({
      ok: true,
      previousKey: true,
    });
    // The same verifier, the next revision without the previous secret: refused.
    const rotated: JwtDocument = { ...hs256 };
    expect(await verifier.verify(previous, 'alice', rotated, NOW * 1000)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(await verifier.verify(current, 'alice', rotated, NOW * 1000)).toEqual({ ok: true });
  });

  it('refuses a token of neither key, and judges a previous-key token by its own claims', async () => {
    const neither = await sign({ sub: 'alice', exp: NOW + 60 }, 'x'.repeat(40));
    expect(await verify(neither, 'alice', rotating)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    const expired = await sign({ sub: 'alice', exp: NOW - 60 }, OLD_SECRET);
    expect(await verify(expired, 'alice', rotating)).toEqual({ ok: false, reason: 'expired' });
    const otherUser = await sign({ sub: 'mallory', exp: NOW + 60 }, OLD_SECRET);
    expect(await verify(otherUser, 'alice', rotating)).toEqual({
      ok: false,
      reason: 'user-mismatch',
    });
    const noExp = await sign({ sub: 'alice' }, OLD_SECRET);
    expect(await verify(noExp, 'alice', rotating)).toEqual({ ok: false, reason: 'missing-exp' });
  });

  it('never uses a previous secret alone', async () => {
    const previous = await sign({ sub: 'alice', exp: NOW + 60 }, OLD_SECRET);
    expect(await verify(previous, 'alice', { ...rotating, secret: undefined })).toEqual({
      ok: false,
      reason: 'no-key',
    });
  });

  it('accepts RS256 and ES256 tokens of the current and of the previous public key', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const now = await generateKeyPair(alg);
      const before = await generateKeyPair(alg);
      const stranger = await generateKeyPair(alg);
      const config: JwtDocument = {
        algorithm: alg,
        publicKey: await exportSPKI(now.publicKey),
        previousPublicKey: await exportSPKI(before.publicKey),
        usernameClaim: 'sub',
        requireExp: true,
      };
      const signed = (key: CryptoKey, payload: JWTPayload = { sub: 'alice', exp: NOW + 60 }) =>
        new SignJWT(payload).setProtectedHeader({ alg }).sign(key);
      const verifier = new JwtLoginVerifier();
      const check = (token: string, doc: JwtDocument) =>
        verifier.verify(token, 'alice', doc, NOW * 1000);
      expect(await check(await signed(now.privateKey), config), alg).toEqual({ ok: true });
      expect(await check(await signed(before.privateKey), config), alg).toEqual({
        ok: true,
        previousKey: true,
      });
      expect(await check(await signed(stranger.privateKey), config), alg).toEqual({
        ok: false,
        reason: 'bad-signature',
      });
      const expired = await signed(before.privateKey, { sub: 'alice', exp: NOW - 60 });
      expect(await check(expired, config), alg).toEqual({ ok: false, reason: 'expired' });
      const { previousPublicKey: _removed, ...rotated } = config;
      expect(await check(await signed(before.privateKey), rotated), alg).toEqual({
        ok: false,
        reason: 'bad-signature',
      });
    }
  });
});
