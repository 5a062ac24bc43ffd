// The previous keys of a rotation (auth.jwt.previousSecret, auth.jwt.previousPublicKey,
// components[].previousSecret): validated like the current ones, and the secret ones as
// write-only as every other secret.
import { describe, expect, it } from 'vitest';
import { ComponentBody } from './config-classes';
import { diffConfigs } from './config-diff';
import type { MeridianConfigDocument } from './documents';
import { REDACTED, redactConfig, restoreRedactedSecrets } from './secrets';
import { validateBody, validateConfig } from './validate-config';

function valid(input: unknown): MeridianConfigDocument {
  const result = validateConfig(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function errorsOf(input: unknown) {
  const result = validateConfig(input);
  return result.ok ? [] : result.errors;
}

const JWT_NEW = 'n'.repeat(40);
const JWT_OLD = 'o'.repeat(40);

const ROTATING = valid({
  globalHost: 'example.com',
  components: [
    { domain: 'muc.example.com', secret: 'muc-new-secret', previousSecret: 'muc-old-secret' },
    { domain: 'pubsub.example.com', secret: 'pubsub-secret' },
  ],
  auth: { jwt: { secret: JWT_NEW, previousSecret: JWT_OLD } },
});

describe('components[].previousSecret', () => {
  it('is optional, kept after secret in the stored form, and absent when not set', () => {
    expect(ROTATING.components).toEqual([
      {
        domain: 'muc.example.com',
        secret: 'muc-new-secret',
        previousSecret: 'muc-old-secret',
        hidden: false,
      },
      { domain: 'pubsub.example.com', secret: 'pubsub-secret', hidden: false },
    ]);
    expect(Object.keys(ROTATING.components[0]!)).toEqual([
      'domain',
      'secret',
      'previousSecret',
      'hidden',
    ]);
  });

  it('follows the rules of secret, and must differ from it', () => {
    const component = (previousSecret: unknown) => ({
      globalHost: 'example.com',
      components: [{ domain: 'muc.example.com', secret: 'muc-secret', previousSecret }],
    });
    expect(errorsOf(component('short'))).toEqual([
      { path: 'components[0].previousSecret', message: 'must be at least 8 characters long' },
    ]);
    expect(errorsOf(component('x'.repeat(4097)))).toEqual([
      { path: 'components[0].previousSecret', message: 'must be at most 4096 characters long' },
    ]);
    expect(errorsOf(component(12345678))).toEqual([
      { path: 'components[0].previousSecret', message: 'must be a string' },
    ]);
    expect(errorsOf(component('muc-secret'))).toEqual([
      { path: 'components[0].previousSecret', message: 'must differ from secret' },
    ]);
    expect(errorsOf(component(null))).toEqual([]);
  });

  it('is part of the PUT /v1/components/:domain body', () => {
    expect(
      validateBody(ComponentBody, { secret: 'new-secret', previousSecret: 'old-secret' }),
    ).toMatchObject({
      ok: true,
      value: { secret: 'new-secret', previousSecret: 'old-secret', hidden: false },
    });
    expect(
      validateBody(ComponentBody, { secret: 'same-secret', previousSecret: 'same-secret' }),
    ).toEqual({
      ok: false,
      errors: [{ path: 'previousSecret', message: 'must differ from secret' }],
    });
  });
});

describe('redaction of previous secrets', () => {
  it('redacts auth.jwt.previousSecret and every component previousSecret', () => {
    const redacted = redactConfig(ROTATING);
    expect(redacted.auth.jwt).toMatchObject({ secret: REDACTED, previousSecret: REDACTED });
    expect(redacted.components[0]).toMatchObject({ secret: REDACTED, previousSecret: REDACTED });
    expect(redacted.components[1]).not.toHaveProperty('previousSecret');
    expect(JSON.stringify(redacted)).not.toMatch(/muc-old|muc-new|nnnn|oooo/);
  });

  it('leaves a previous public key shown, as the public key is', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    const doc = structuredClone(ROTATING);
    doc.auth.jwt = { ...doc.auth.jwt, previousPublicKey: pem };
    expect(redactConfig(doc).auth.jwt.previousPublicKey).toBe(pem);
  });

  it('round-trips: the redacted document sent back keeps every stored secret', () => {
    expect(valid(restoreRedactedSecrets(redactConfig(ROTATING), ROTATING))).toEqual(ROTATING);
  });

  it('restores a placeholder only from the field of the same name', () => {
    const stored = valid({
      globalHost: 'example.com',
      components: [{ domain: 'muc.example.com', secret: 'muc-old-secret' }],
      auth: { jwt: { secret: JWT_OLD } },
    });
    // Starting a rotation with the current secret as placeholder for the previous one does
    // not silently move it: there is no stored previous secret to restore.
    const incoming = {
      globalHost: 'example.com',
      components: [
        { domain: 'muc.example.com', secret: 'muc-new-secret', previousSecret: REDACTED },
      ],
      auth: { jwt: { secret: JWT_NEW, previousSecret: REDACTED } },
    };
    expect(errorsOf(restoreRedactedSecrets(incoming, stored))).toEqual([
      {
        path: 'auth.jwt.previousSecret',
        message: 'redacted placeholder given but no stored secret',
      },
      {
        path: 'components[0].previousSecret',
        message: 'redacted placeholder given but no stored secret',
      },
    ]);
    // With the old values given, the rotation starts; the current secret stays a placeholder.
    const started = valid(
      restoreRedactedSecrets(
        {
          ...incoming,
          components: [
            { domain: 'muc.example.com', secret: REDACTED, previousSecret: 'muc-older-secret' },
          ],
          auth: { jwt: { secret: REDACTED, previousSecret: 'p'.repeat(40) } },
        },
        stored,
      ),
    );
    expect(started.auth.jwt).toMatchObject({ secret: JWT_OLD, previousSecret: 'p'.repeat(40) });
    expect(started.components[0]).toMatchObject({
      secret: 'muc-old-secret',
      previousSecret: 'muc-older-secret',
    });
  });
});

describe('diffs of a rotation', () => {
  it('never show a previous secret: started, replaced and ended', () => {
    const before = valid({
      globalHost: 'example.com',
      components: [
        { domain: 'muc.example.com', secret: 'muc-old-secret' },
        { domain: 'pubsub.example.com', secret: 'pubsub-secret' },
      ],
      auth: { jwt: { secret: JWT_OLD } },
    });
    const started = diffConfigs(before, ROTATING);
    expect(started).toEqual([
      {
        op: 'change',
        path: 'components["muc.example.com"].secret',
        before: REDACTED,
        after: REDACTED,
      },
      { op: 'add', path: 'components["muc.example.com"].previousSecret', after: REDACTED },
      { op: 'change', path: 'auth.jwt.secret', before: REDACTED, after: REDACTED },
      { op: 'add', path: 'auth.jwt.previousSecret', after: REDACTED },
    ]);

    const replaced = structuredClone(ROTATING);
    replaced.auth.jwt.previousSecret = 'q'.repeat(40);
    replaced.components[0]!.previousSecret = 'muc-other-secret';
    expect(diffConfigs(ROTATING, replaced)).toEqual([
      {
        op: 'change',
        path: 'components["muc.example.com"].previousSecret',
        before: REDACTED,
        after: REDACTED,
      },
      { op: 'change', path: 'auth.jwt.previousSecret', before: REDACTED, after: REDACTED },
    ]);

    const ended = structuredClone(ROTATING);
    delete ended.auth.jwt.previousSecret;
    delete ended.components[0]!.previousSecret;
    const endedChanges = diffConfigs(ROTATING, ended);
    expect(endedChanges).toEqual([
      { op: 'remove', path: 'components["muc.example.com"].previousSecret', before: REDACTED },
      { op: 'remove', path: 'auth.jwt.previousSecret', before: REDACTED },
    ]);
    expect(JSON.stringify([started, endedChanges])).not.toMatch(/muc-|nnnn|oooo|qqqq/);
  });
});
