// meridianctl against a real control plane (PostgreSQL, Redis): each command's success,
// bad input and refusals with their exit codes, and a control plane that is down. Commands
// run in-process through `run()`; one test runs the built executable to check the wiring.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RouterStatusRecord } from '#redis-keys';
import { run } from '../../apps/meridianctl/src/cli';
import { ExitCode } from '../../apps/meridianctl/src/exit-codes';
import {
  ADMIN_TOKEN,
  READONLY_TOKEN,
  startControl,
  type ControlHarness,
} from '../support/control-app';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { makeTestTls, type TestTls } from '../support/test-tls';

let control: ControlHarness;
let url: string;
let dir: string;
/** A loopback port nothing listens on. */
let closedUrl: string;

interface Result {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function ctl(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  let out = '';
  let err = '';
  const code = await run(args, {
    env: {
      MERIDIAN_LOCAL_DIR: join(dir, 'no-installation'),
      MERIDIAN_CONTROL_URL: url,
      MERIDIAN_TOKEN: ADMIN_TOKEN,
      ...options.env,
    },
    stdin: Readable.from([options.stdin ?? '']),
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SEED_YAML = `
globalHost: example.com
datacenters:
  - localHost: dc1.example.com
  - localHost: dc2.example.com
auth:
  jwt:
    algorithm: HS256
    secret: meridianctl-test-secret-0123456789abcdef
`;

function report(overrides: Partial<RouterStatusRecord>): Promise<unknown> {
  const now = new Date().toISOString();
  const status: RouterStatusRecord = {
    node: 'n1',
    localHost: 'dc1.example.com',
    revision: 1,
    domainSeq: 0,
    status: 'ack',
    startedAt: now,
    heartbeatAt: now,
    ...overrides,
  };
  return control.redis.client.set(
    `meridian:router:${status.localHost}:${status.node}`,
    JSON.stringify(status),
    'EX',
    60,
  );
}

async function latestRevision(): Promise<number> {
  const { body } = await control.http
    .get('/v1/revisions?limit=1')
    .set({ Authorization: `Bearer ${ADMIN_TOKEN}` });
  return (body as { revisions: { number: number }[] }).revisions[0]?.number ?? 0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meridianctl-'));
  control = await startControl('meridianctl', { env: { ROUTER_STALE_AFTER_S: '10' } });
  await control.app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(control.app.getHttpServer().address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  await control?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('before any configuration', () => {
  it('get config is not found (6) and status says there is none (1)', async () => {
    const get = await ctl(['get', 'config']);
    expect(get.code).toBe(ExitCode.notFound);
    expect(get.err).toMatch(/^meridianctl: GET \/v1\/config: 404 /);
    const status = await ctl(['status']);
    expect(status.code).toBe(ExitCode.notConverged);
    expect(status.out).toContain('no configuration yet');
  });
});

describe('apply, diff, get config', () => {
  it('creates the first revision from a YAML file, then reports no changes', async () => {
    const path = file('seed.yaml', SEED_YAML);
    const first = await ctl(['apply', '-f', path, '--comment', 'first']);
    expect(first.err).toBe('');
    expect(first.code).toBe(ExitCode.ok);
    expect(first.out).toContain('+ globalHost: example.com');
    expect(first.out).toMatch(/applied: revision 1\n$/);
    const again = await ctl(['apply', '-f', path]);
    expect(again).toMatchObject({
      code: ExitCode.ok,
      out: 'no changes: revision 1 already matches the file\n',
    });
    const diff = await ctl(['diff', '-f', path]);
    expect(diff).toMatchObject({
      code: ExitCode.ok,
      out: 'no differences: revision 1 matches the file\n',
    });
  });

  it('get config prints an apply-ready file: baseRevision, secrets redacted, readable order', async () => {
    const { code, out } = await ctl(['get', 'config']);
    expect(code).toBe(ExitCode.ok);
    expect(out).toMatch(/^# Meridian configuration at revision 1/);
    const document = parse(out) as Record<string, unknown>;
    expect(Object.keys(document).slice(0, 3)).toEqual([
      'baseRevision',
      'globalHost',
      'datacenters',
    ]);
    expect(document.baseRevision).toBe(1);
    expect(document.auth).toMatchObject({ jwt: { secret: '**redacted**' } });
    expect(out).not.toContain('meridianctl-test-secret');
    const json = await ctl(['get', 'config', '-o', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ baseRevision: 1, globalHost: 'example.com' });
  });

  it('shows the diff (exit 1), applies nothing on --dry-run, then applies with the same If-Match', async () => {
    const edited = (await ctl(['get', 'config'])).out.replace('maxRetries: 4', 'maxRetries: 6');
    const path = file('edited.yaml', edited);
    const diff = await ctl(['diff', '-f', path]);
    expect(diff.code).toBe(ExitCode.notConverged);
    expect(diff.out).toBe('1 change from revision 1:\n~ bounce.maxRetries: 4 -> 6\n');

    const dry = await ctl(['apply', '-f', path, '--dry-run']);
    expect(dry.code).toBe(ExitCode.ok);
    expect(dry.out).toContain('dry run: nothing applied (it would become revision 2)');
    expect(await latestRevision()).toBe(1);

    const applied = await ctl(['apply', '-f', path, '-o', 'json']);
    expect(applied.code).toBe(ExitCode.ok);
    expect(JSON.parse(applied.out)).toEqual({
      outcome: 'created',
      revision: 2,
      previousRevision: 1,
      baseRevision: 1,
      changes: [{ op: 'change', path: 'bounce.maxRetries', before: 4, after: 6 }],
    });
    // The redacted secret sent back kept the stored one.
    const stored = await control.redis.client.get('meridian:config:rev:2');
    if (stored) expect(stored).toContain('meridianctl-test-secret');
  });

  it('refuses a file whose base revision is stale (8) unless --force; an equal file is fine', async () => {
    const stale = file(
      'stale.yaml',
      `baseRevision: 1\n${SEED_YAML}messageTtl: 7\nbounce: { enabled: true, resendAfterMs: 200, maxRetries: 6 }\n`,
    );
    const refused = await ctl(['apply', '-f', stale]);
    expect(refused.code).toBe(ExitCode.stale);
    expect(refused.err).toContain(
      'the file is based on revision 1, but the configuration is now at revision 2',
    );
    expect(refused.err).toContain('--force');
    expect(await latestRevision()).toBe(2);

    const json = await ctl(['apply', '-f', stale, '-o', 'json']);
    expect(JSON.parse(json.err)).toMatchObject({
      error: { kind: 'stale', exitCode: 8, status: 412 },
    });

    const forced = await ctl(['apply', '-f', stale, '--force']);
    expect(forced.code).toBe(ExitCode.ok);
    expect(forced.err).toContain('warning: --force');
    expect(forced.out).toContain('~ messageTtl: 4 -> 7');
    expect(await latestRevision()).toBe(3);

    // Based on revision 1 but equal to the configuration: nothing to overwrite.
    const same = await ctl(['apply', '-f', stale]);
    expect(same).toMatchObject({
      code: ExitCode.ok,
      out: 'no changes: revision 3 already matches the file\n',
    });
  });

  it('lists every field error of an invalid file (5) and stores nothing', async () => {
    const path = file(
      'invalid.yaml',
      'datacenters: [{ localHost: "not a host" }]\nmessageTtl: -1\n',
    );
    const { code, err } = await ctl(['apply', '-f', path]);
    expect(code).toBe(ExitCode.invalid);
    expect(err).toMatch(
      /^meridianctl: PUT \/v1\/config: 400 the resulting configuration is invalid\n/,
    );
    expect(err).toMatch(/\n {2}- globalHost: /);
    expect(err).toMatch(/\n {2}- messageTtl: /);
    expect(await latestRevision()).toBe(3);
  });

  it('refuses unreadable and malformed files and bad usage with 2, before calling control', async () => {
    const cases: [string[], RegExp][] = [
      [['apply'], /missing -f <file>/],
      [['apply', '-f', join(dir, 'missing.yaml')], /cannot read .*missing\.yaml/],
      [['apply', '-f', file('bad.yaml', 'globalHost: [unclosed\n')], /is not valid YAML/],
      [['apply', '-f', file('list.yaml', '- a\n- b\n')], /must hold one mapping/],
      [
        ['apply', '-f', file('base.yaml', 'baseRevision: x\n')],
        /baseRevision must be a revision number/,
      ],
      [['apply', '-f', 'x', '--bogus'], /Unknown option '--bogus'/],
      [['status', '--file', 'x'], /status does not take --file/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['get', 'widgets'], /unknown resource "widgets"/],
      [['status', '-o', 'xml'], /--output must be one of text, json, yaml/],
      [['rollback', 'last'], /"last" is not a revision number/],
      [['status', '--wait', 'soon'], /--wait takes a duration/],
    ];
    for (const [args, message] of cases) {
      const result = await ctl(args);
      expect(result.code, args.join(' ')).toBe(ExitCode.usage);
      expect(result.err, args.join(' ')).toMatch(message);
    }
  });

  it('reads a file from stdin with -f -', async () => {
    const { code, out } = await ctl(['diff', '-f', '-'], {
      stdin: `${SEED_YAML}messageTtl: 7\nbounce: { enabled: true, resendAfterMs: 200, maxRetries: 6 }\n`,
    });
    expect(out).toBe('no differences: revision 3 matches the file\n');
    expect(code).toBe(ExitCode.ok);
  });
});

describe('revisions and rollback', () => {
  it('lists revisions and rolls back to one (dry run first)', async () => {
    const list = await ctl(['revisions']);
    expect(list.code).toBe(ExitCode.ok);
    expect(list.out.split('\n')[0]).toMatch(/^REVISION\s+CREATED\s+AUTHOR\s+PUSHED\s+COMMENT$/);
    expect(list.out).toMatch(/\n1\s+\S+\s+admin\s+(yes|waiting)\s+first\n/);

    const dry = await ctl(['rollback', '1', '--dry-run']);
    expect(dry.code).toBe(ExitCode.ok);
    expect(dry.out).toContain('~ messageTtl: 7 -> 4');
    expect(dry.out).toContain('dry run: nothing applied');
    expect(await latestRevision()).toBe(3);

    const done = await ctl(['rollback', '1', '--comment', 'back to the seed']);
    expect(done.code).toBe(ExitCode.ok);
    expect(done.out).toContain('rolled back: revision 4 equals revision 1');
    const json = JSON.parse((await ctl(['revisions', '-o', 'json', '--limit', '1'])).out) as {
      revisions: { number: number; rollbackOf: number; comment: string }[];
    };
    expect(json.revisions).toEqual([
      expect.objectContaining({ number: 4, rollbackOf: 1, comment: 'back to the seed' }),
    ]);
  });

  it('says not found (6) for a revision that does not exist', async () => {
    const { code, err } = await ctl(['rollback', '999']);
    expect(code).toBe(ExitCode.notFound);
    expect(err).toContain('404');
  });
});

describe('get', () => {
  it('reads resources by name, and aliases', async () => {
    const dc = await ctl(['get', 'dc', 'dc2.example.com', '-o', 'json']);
    expect(dc.code).toBe(ExitCode.ok);
    expect(JSON.parse(dc.out)).toMatchObject({ localHost: 'dc2.example.com' });
    const missing = await ctl(['get', 'datacenter', 'dc9.example.com']);
    expect(missing.code).toBe(ExitCode.notFound);
    const bounce = await ctl(['get', 'bounce']);
    expect(parse(bounce.out)).toMatchObject({ maxRetries: 4 });
    expect((await ctl(['get', 'bounce', 'x'])).code).toBe(ExitCode.usage);
  });
});

describe('domains', () => {
  it('adds, disables, enables, lists and removes a domain', async () => {
    const add = await ctl(['domains', 'add', 'tenant1.example.net']);
    expect(add).toMatchObject({
      code: ExitCode.ok,
      out: 'domain tenant1.example.net added (host type default)\n',
    });
    expect((await ctl(['domains', 'disable', 'tenant1.example.net'])).out).toBe(
      'domain tenant1.example.net disabled\n',
    );
    const list = await ctl(['domains', 'list']);
    expect(list.out).toMatch(/tenant1\.example\.net\s+default\s+no/);
    expect((await ctl(['domains', 'enable', 'tenant1.example.net'])).code).toBe(ExitCode.ok);
    const one = JSON.parse((await ctl(['get', 'domain', 'tenant1.example.net', '-o', 'json'])).out);
    expect(one).toEqual({ domain: 'tenant1.example.net', hostType: 'default', enabled: true });
    expect((await ctl(['domains', 'remove', 'tenant1.example.net'])).code).toBe(ExitCode.ok);
    expect((await ctl(['get', 'domain', 'tenant1.example.net'])).code).toBe(ExitCode.notFound);
  });

  it('maps refusals: exists 409 -> 7, unknown host type 422 -> 5, bad name 400 -> 5', async () => {
    await ctl(['domains', 'add', 'tenant2.example.net']);
    const twice = await ctl(['domains', 'add', 'tenant2.example.net']);
    expect(twice.code).toBe(ExitCode.conflict);
    const hostType = await ctl(['domains', 'add', 'tenant3.example.net', '--host-type', 'gold']);
    expect(hostType.code).toBe(ExitCode.invalid);
    expect(hostType.err).toContain('422');
    expect((await ctl(['domains', 'add', 'not_a_domain'])).code).toBe(ExitCode.invalid);
    expect((await ctl(['domains', 'rename', 'x'])).code).toBe(ExitCode.usage);
    expect((await ctl(['domains', 'add'])).code).toBe(ExitCode.usage);
  });
});

describe('status', () => {
  it('flags routers that are behind, refusing or stale, and exits 1 until all run the latest', async () => {
    const latest = await latestRevision();
    await report({ node: 'a', revision: latest, sessions: 2 });
    await report({ node: 'b', revision: latest - 1 });
    await report({
      node: 'a',
      localHost: 'dc2.example.com',
      revision: latest - 1,
      status: 'nack',
      rejectedRevision: latest,
      error: 'invalid configuration',
      errors: [{ path: 'bounce.maxRetries', message: 'too big' }],
    });
    await report({ node: 'old', heartbeatAt: new Date(Date.now() - 60_000).toISOString() });
    const mixed = await ctl(['status']);
    expect(mixed.code).toBe(ExitCode.notConverged);
    expect(mixed.out).toContain(
      `latest revision ${latest}: 1 of 3 live routers run it (not converged)`,
    );
    expect(mixed.out).toMatch(/dc1\.example\.com\s+b\s+\d+\s+ack\s+.*behind/);
    expect(mixed.out).toMatch(/dc1\.example\.com\s+old\s+.*stale.*STALE: silent since/);
    expect(mixed.out).toContain(`REFUSED revision ${latest}: invalid configuration`);
    expect(mixed.out).toContain('  - bounce.maxRetries: too big');

    const waited = await ctl(['status', '--wait', '1s']);
    expect(waited.code).toBe(ExitCode.notConverged);

    await report({ node: 'b', revision: latest });
    await report({ node: 'a', localHost: 'dc2.example.com', revision: latest });
    const synced = await ctl(['status', '-o', 'json']);
    expect(synced.code).toBe(ExitCode.ok);
    const json = JSON.parse(synced.out) as {
      converged: boolean;
      routers: { node: string; stale: boolean }[];
    };
    expect(json.converged).toBe(true);
    expect(json.routers.filter((r) => r.stale).map((r) => r.node)).toEqual(['old']);
  });
});

describe('auth', () => {
  it('exits 4 for a missing or wrong token, and for a change with a read-only token', async () => {
    const none = await ctl(['revisions'], { env: { MERIDIAN_TOKEN: '' } });
    expect(none.code).toBe(ExitCode.auth);
    expect(none.err).toContain('pass --token or set MERIDIAN_TOKEN');
    const wrong = await ctl(['revisions', '--token', 'not-the-token-0123456789']);
    expect(wrong.code).toBe(ExitCode.auth);
    const readOnly = await ctl(['domains', 'add', 'ro.example.net', '--token', READONLY_TOKEN]);
    expect(readOnly.code).toBe(ExitCode.auth);
    expect(readOnly.err).toContain('read-only');
    expect((await ctl(['revisions', '--token', READONLY_TOKEN])).code).toBe(ExitCode.ok);
  });
});

describe('token mint', () => {
  const secret = 'meridianctl-test-secret-0123456789abcdef';

  it('mints an HS256 JWT whose sub is the localpart and which expires', async () => {
    const { code, out } = await ctl([
      'token',
      'mint',
      'Alice@example.com',
      '--secret',
      secret,
      '--ttl',
      '10m',
    ]);
    expect(code).toBe(ExitCode.ok);
    const { payload, protectedHeader } = await jwtVerify(
      out.trim(),
      new TextEncoder().encode(secret),
    );
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('alice');
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('reads the secret from a file or MERIDIAN_JWT_SECRET, and says when there is none', async () => {
    const fromFile = await ctl([
      'token',
      'mint',
      'bob@example.com',
      '--secret-file',
      file('secret', `${secret}\n`),
    ]);
    await jwtVerify(fromFile.out.trim(), new TextEncoder().encode(secret));
    const fromEnv = await ctl(['token', 'mint', 'bob@example.com', '-o', 'json'], {
      env: { MERIDIAN_JWT_SECRET: secret },
    });
    expect(JSON.parse(fromEnv.out)).toMatchObject({ username: 'bob' });
    const none = await ctl(['token', 'mint', 'bob@example.com']);
    expect(none.code).toBe(ExitCode.usage);
    expect(none.err).toContain('no JWT secret');
    expect((await ctl(['token', 'mint', 'bob', '--secret', secret])).code).toBe(ExitCode.usage);
    expect(
      (await ctl(['token', 'mint', 'bob@example.com', '--secret', secret, '--ttl', '0'])).code,
    ).toBe(ExitCode.usage);
  });
});

describe('a control plane that is down', () => {
  it('exits 3 when nothing listens, with a message and a JSON error for scripts', async () => {
    const down = { MERIDIAN_CONTROL_URL: closedUrl };
    const text = await ctl(['status'], { env: down });
    expect(text.code).toBe(ExitCode.unavailable);
    expect(text.err).toMatch(
      /^meridianctl: control is unreachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n {2}hint: is control running\?/,
    );
    const json = await ctl(['apply', '-f', file('down.yaml', SEED_YAML), '-o', 'json'], {
      env: down,
    });
    expect(json.code).toBe(ExitCode.unavailable);
    expect(JSON.parse(json.err)).toMatchObject({
      error: { kind: 'unavailable', exitCode: 3, status: null },
    });
    expect(json.out).toBe('');
  });

  it('exits 3 when control answers 503 because PostgreSQL is down', async () => {
    const proxy: TcpProxy = await startTcpProxy('127.0.0.1', 5432);
    const cut = await startControl('meridianctl_pgdown', { pgPort: proxy.port });
    try {
      await cut.app.listen(0, '127.0.0.1');
      const cutUrl = `http://127.0.0.1:${(cut.app.getHttpServer().address() as AddressInfo).port}`;
      proxy.cut();
      const result = await ctl(['revisions'], { env: { MERIDIAN_CONTROL_URL: cutUrl } });
      expect(result.code).toBe(ExitCode.unavailable);
      expect(result.err).toContain('503');
      proxy.restore();
    } finally {
      await cut.close();
      await proxy.close();
    }
  });

  it('exits 3 when control does not answer in time', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const result = await ctl(['status', '--timeout', '0.3'], {
        env: { MERIDIAN_CONTROL_URL: `http://127.0.0.1:${port}` },
      });
      expect(result.code).toBe(ExitCode.unavailable);
      expect(result.err).toContain('did not answer within 0.3 s');
    } finally {
      silent.close();
    }
  });
});

describe('control over HTTPS with a private CA', () => {
  // A CA of this test's own: the test workers trust only the run's test CA.
  let tls: TestTls;
  let httpsControl: ControlHarness;
  let httpsUrl: string;

  beforeAll(async () => {
    tls = makeTestTls();
    httpsControl = await startControl('meridianctl_https', {
      env: { CONTROL_TLS_CERT: tls.certFile, CONTROL_TLS_KEY: tls.keyFile },
    });
    await httpsControl.app.listen(0, '127.0.0.1');
    httpsUrl = `https://127.0.0.1:${(httpsControl.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await httpsControl?.close();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  it('reads and changes the configuration with MERIDIAN_CA_FILE or --ca-file', async () => {
    const env = { MERIDIAN_CONTROL_URL: httpsUrl, MERIDIAN_CA_FILE: tls.caFile };
    const applied = await ctl(['apply', '-f', file('https.yaml', SEED_YAML)], { env });
    expect(applied.err).toBe('');
    expect(applied.code).toBe(ExitCode.ok);
    const listed = await ctl(['revisions', '-o', 'json', '--ca-file', tls.caFile], {
      env: { MERIDIAN_CONTROL_URL: httpsUrl },
    });
    expect(listed.code).toBe(ExitCode.ok);
    expect(JSON.parse(listed.out)).toMatchObject({ revisions: [{ number: 1 }] });
  });

  it('exits 3 without the CA, saying the certificate is not trusted', async () => {
    const result = await ctl(['revisions'], { env: { MERIDIAN_CONTROL_URL: httpsUrl } });
    expect(result.code).toBe(ExitCode.unavailable);
    expect(result.err).toContain(
      `control is unreachable at ${httpsUrl} (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    expect(result.err).toContain('--ca-file or MERIDIAN_CA_FILE names the CA that signed it');
  });

  it('exits 2 for a CA file it cannot read or that holds no certificate', async () => {
    const missing = join(dir, 'missing-ca.crt');
    const unread = await ctl(['revisions', '--ca-file', missing], {
      env: { MERIDIAN_CONTROL_URL: httpsUrl },
    });
    expect(unread.code).toBe(ExitCode.usage);
    expect(unread.err).toContain(
      `cannot read the CA file ${missing} (--ca-file, MERIDIAN_CA_FILE): ENOENT`,
    );
    const notCa = file('not-a-ca.crt', 'hello\n');
    const bad = await ctl(['revisions'], {
      env: { MERIDIAN_CONTROL_URL: httpsUrl, MERIDIAN_CA_FILE: notCa },
    });
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.err).toContain(
      `the CA file ${notCa} (--ca-file, MERIDIAN_CA_FILE) holds no PEM certificate`,
    );
  });

  it('runs from dist/ with MERIDIAN_CA_FILE', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['dist/apps/meridianctl/src/main.js', 'get', 'bounce', '-o', 'json'],
      {
        env: {
          ...process.env,
          MERIDIAN_CONTROL_URL: httpsUrl,
          MERIDIAN_CA_FILE: tls.caFile,
          MERIDIAN_TOKEN: ADMIN_TOKEN,
          MERIDIAN_LOCAL_DIR: dir,
        },
        timeout: 20_000,
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ maxRetries: 4 });
  });
});

describe('the executable', () => {
  it('runs from dist/ with the process exit code (npx meridianctl after npm run build)', async () => {
    const exec = promisify(execFile);
    const main = 'dist/apps/meridianctl/src/main.js';
    const ok = await exec(process.execPath, [main, 'get', 'bounce', '-o', 'json'], {
      env: {
        ...process.env,
        MERIDIAN_CONTROL_URL: url,
        MERIDIAN_TOKEN: ADMIN_TOKEN,
        MERIDIAN_LOCAL_DIR: dir,
      },
    });
    expect(JSON.parse(ok.stdout)).toMatchObject({ maxRetries: 4 });
    const failed = await exec(process.execPath, [main, 'status'], {
      env: { ...process.env, MERIDIAN_CONTROL_URL: closedUrl, MERIDIAN_LOCAL_DIR: dir },
    }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: ExitCode.unavailable });
    expect((failed as { stderr: string }).stderr).toContain('control is unreachable');
  });
});
