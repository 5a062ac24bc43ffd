import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvError, parseControlEnv } from './control-env';

const token = 'x'.repeat(16);

describe('parseControlEnv', () => {
  it('applies the documented defaults', () => {
    const env = parseControlEnv({});
    expect(env).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/meridian',
      databasePoolWaitMs: 10_000,
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8080,
      host: undefined,
      tls: null,
      adminTokens: [],
      authFailureLimit: 20,
      authFailureWindowS: 60,
      migrateOnStart: true,
      maxBodyBytes: 1048576,
    });
    expect(env.redisUrls.size).toBe(0);
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('parses named tokens, read-only ones included', () => {
    const env = parseControlEnv({ MERIDIAN_ADMIN_TOKENS: `ops:${token}, audit:${token}y:ro` });
    expect(env.adminTokens).toEqual([
      { name: 'ops', token, readOnly: false },
      { name: 'audit', token: `${token}y`, readOnly: true },
    ]);
  });

  it('parses one Redis URL per datacenter', () => {
    const env = parseControlEnv({
      REDIS_URLS: 'dc1.example.com=redis://10.0.0.1:6379,dc2.example.com=redis://10.0.0.2:6379/2',
    });
    expect([...env.redisUrls]).toEqual([
      ['dc1.example.com', 'redis://10.0.0.1:6379'],
      ['dc2.example.com', 'redis://10.0.0.2:6379/2'],
    ]);
  });

  it('lists every problem at once', () => {
    let error: EnvError | undefined;
    try {
      parseControlEnv({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        DATABASE_POOL_WAIT_MS: '2s',
        MERIDIAN_ADMIN_TOKENS: `ops:short,ops:${token},ops:${token}:xx,bad`,
        AUTH_FAILURE_LIMIT: '0',
        AUTH_FAILURE_WINDOW_S: '1.5',
        MERIDIAN_MIGRATE: 'maybe',
        REDIS_URLS: 'dc1=http://x',
      });
    } catch (e) {
      error = e as EnvError;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect(error!.problems).toEqual([
      'DATABASE_URL must be a postgres:/postgresql: URL',
      'DATABASE_POOL_WAIT_MS must be an integer between 100 and 120000, got "2s"',
      'REDIS_URLS entry "dc1=http://x" must be <localHost>=redis://...',
      'PORT must be an integer between 0 and 65535, got "eighty"',
      'MERIDIAN_ADMIN_TOKENS entry 1 (ops): token must be at least 16 characters',
      'MERIDIAN_ADMIN_TOKENS entry 3 (ops): mode must be "ro" or "rw", got "xx"',
      'MERIDIAN_ADMIN_TOKENS entry 4 must be name:token or name:token:ro',
      'AUTH_FAILURE_LIMIT must be an integer between 1 and 1000000, got "0"',
      'AUTH_FAILURE_WINDOW_S must be an integer between 1 and 86400, got "1.5"',
      'MERIDIAN_MIGRATE must be true or false, got "maybe"',
    ]);
  });

  it('refuses a duplicate token name', () => {
    expect(() => parseControlEnv({ MERIDIAN_ADMIN_TOKENS: `a:${token},a:${token}z` })).toThrow(
      /duplicate token name "a"/,
    );
  });

  it('takes an IP address to listen on', () => {
    expect(parseControlEnv({ CONTROL_HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(parseControlEnv({ CONTROL_HOST: '::1' }).host).toBe('::1');
    expect(() => parseControlEnv({ CONTROL_HOST: 'localhost' })).toThrow(
      'CONTROL_HOST must be an IP address, got "localhost"',
    );
  });

  describe('CONTROL_TLS_CERT and CONTROL_TLS_KEY', () => {
    // A certificate and its key that fit are made with openssl in test/control/tls.test.ts.
    const dir = mkdtempSync(join(tmpdir(), 'meridian-control-env-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const problemsOf = (env: Record<string, string>) => {
      try {
        parseControlEnv(env);
      } catch (e) {
        return (e as EnvError).problems;
      }
      return [];
    };

    it('go together', () => {
      expect(problemsOf({ CONTROL_TLS_CERT: '/etc/control.crt' })).toEqual([
        'CONTROL_TLS_CERT is set but CONTROL_TLS_KEY is not: HTTPS needs both (or neither, for plain HTTP)',
      ]);
      expect(problemsOf({ CONTROL_TLS_KEY: '/etc/control.key', CONTROL_TLS_CERT: ' ' })).toEqual([
        'CONTROL_TLS_KEY is set but CONTROL_TLS_CERT is not: HTTPS needs both (or neither, for plain HTTP)',
      ]);
    });

    it('name the variable whose file is missing or holds something else', () => {
      const missing = join(dir, 'missing.crt');
      expect(
        problemsOf({ CONTROL_TLS_CERT: missing, CONTROL_TLS_KEY: file('k.pem', keyPem) }),
      ).toEqual([`CONTROL_TLS_CERT: cannot read ${missing} (ENOENT)`]);
      const notCert = file('not-a-cert.pem', keyPem);
      const notKey = file('not-a-key.pem', 'hello\n');
      expect(problemsOf({ CONTROL_TLS_CERT: notCert, CONTROL_TLS_KEY: notKey })).toEqual([
        `CONTROL_TLS_CERT: ${notCert} does not hold a PEM certificate`,
        `CONTROL_TLS_KEY: ${notKey} does not hold an unencrypted PEM private key`,
      ]);
    });
  });
});
