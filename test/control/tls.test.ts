// Control over HTTPS (CONTROL_TLS_CERT/CONTROL_TLS_KEY): clients that trust its CA get
// answers, plain HTTP and clients without the CA get nothing, boot says it serves HTTPS (the
// plain HTTP lines: apps/control/src/http/listen.spec.ts), and a half or broken TLS setting
// stops boot with the variable named. The CA is made here,
// so the test workers (which trust the run's test CA) do not trust it.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvError, parseControlEnv } from '../../apps/control/src/env/control-env';
import { listenControl } from '../../apps/control/src/http/listen';
import { ADMIN_TOKEN, startControl, type ControlHarness } from '../support/control-app';
import { makeTestTls, type TestTls } from '../support/test-tls';

const CONTROL_MAIN = 'dist/apps/control/src/main.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

let tls: TestTls;
let control: ControlHarness;
let port: number;
const logs: string[] = [];

function get(
  send: typeof httpsRequest | typeof httpRequest,
  path: string,
  options: RequestOptions = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = send({ host: '127.0.0.1', port, path, timeout: 5000, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const withCa = (): RequestOptions => ({ ca: readFileSync(tls.caFile) });

beforeAll(async () => {
  tls = makeTestTls();
  control = await startControl('control_tls', {
    env: {
      CONTROL_TLS_CERT: tls.certFile,
      CONTROL_TLS_KEY: tls.keyFile,
      CONTROL_HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    logStream: { write: (line: string) => void logs.push(line) },
  });
  await listenControl(control.app, control.env);
  port = (control.app.getHttpServer().address() as AddressInfo).port;
});

afterAll(async () => {
  await control?.close();
  if (tls) rmSync(tls.dir, { recursive: true, force: true });
});

describe('control with CONTROL_TLS_CERT and CONTROL_TLS_KEY', () => {
  it('answers HTTPS clients that trust its CA, /health and authenticated /v1 routes', async () => {
    expect(await get(httpsRequest, '/health', withCa())).toMatchObject({ status: 200 });
    const revisions = await get(httpsRequest, '/v1/revisions', {
      ...withCa(),
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(revisions.status).toBe(200);
    expect(JSON.parse(revisions.body)).toMatchObject({ revisions: [] });
    expect((await get(httpsRequest, '/v1/revisions', withCa())).status).toBe(401);
  });

  it('says at boot that it serves HTTPS, and with which certificate', () => {
    const line = logs.find((l) => l.includes('HTTPS on'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 30, context: 'listen' });
    expect(line).toContain(
      `HTTPS on 127.0.0.1:${port} (TLS 1.2 or newer; certificate ${tls.certFile}`,
    );
  });

  it('offers nothing over plain HTTP on the same port', async () => {
    await expect(get(httpRequest, '/health')).rejects.toThrow();
  });

  it('is refused by a client that does not trust its CA', async () => {
    await expect(get(httpsRequest, '/health')).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('refuses TLS older than 1.2', async () => {
    // The client allows TLS 1.1 (OpenSSL wants security level 0 for it): the refusal is the server's.
    const old = {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    } as const;
    await expect(get(httpsRequest, '/health', { ...withCa(), ...old })).rejects.toThrow(
      /alert protocol version/,
    );
  });
});

describe('a TLS setting control cannot use', () => {
  const boot = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [CONTROL_MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20_000,
    }).catch((err: { code: number; stderr: string }) => err);

  it('stops boot with exit 1 naming the variable (the built executable)', async () => {
    const onlyCert = await boot({ CONTROL_TLS_CERT: tls.certFile });
    expect(onlyCert).toMatchObject({ code: 1 });
    expect((onlyCert as { stderr: string }).stderr).toContain(
      'CONTROL_TLS_CERT is set but CONTROL_TLS_KEY is not',
    );
    const missing = join(tls.dir, 'missing.key');
    const missingKey = await boot({ CONTROL_TLS_CERT: tls.certFile, CONTROL_TLS_KEY: missing });
    expect(missingKey).toMatchObject({ code: 1 });
    expect((missingKey as { stderr: string }).stderr).toContain(
      `CONTROL_TLS_KEY: cannot read ${missing} (ENOENT)`,
    );
  });

  it("refuses a key that is not the certificate's", () => {
    let error: EnvError | undefined;
    try {
      parseControlEnv({
        CONTROL_TLS_CERT: tls.certFile,
        CONTROL_TLS_KEY: join(tls.dir, 'ca.key'),
      });
    } catch (e) {
      error = e as EnvError;
    }
    expect(error?.problems).toEqual([
      `CONTROL_TLS_KEY (${join(tls.dir, 'ca.key')}) is not the private key of the certificate in CONTROL_TLS_CERT (${tls.certFile})`,
    ]);
  });
});
