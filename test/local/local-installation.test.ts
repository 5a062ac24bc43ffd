// Smoke test of the README's main command: `npm start` in the background (its own database,
// Redis, state folder and ports, through the documented overrides), alice at dc1 and bob at
// dc2 chatting both ways with xmpp.js (meridianctl chat, verifying the dev CA), a change
// applied with `meridianctl apply` and acknowledged by every router in `meridianctl status`,
// then Ctrl-C (SIGINT to the process group, as a terminal sends it) and nothing left running.
// A second run reuses everything, and a concurrent one starts nothing.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalInstallation } from '../../apps/meridianctl/src/local-installation';
import { layoutFor, portsOf } from '../../scripts/local/layout';
import { PG_ADMIN_URL } from '../support/database';
import { leaseRedisDatabase, type TestRedis } from '../support/redis';

const ROOT = join(__dirname, '..', '..');
const CTL = join(ROOT, 'dist/apps/meridianctl/src/main.js');
const exec = promisify(execFile);

let redis: TestRedis;
let stateDir: string;
let database: string;
let env: NodeJS.ProcessEnv;
const started: ChildProcess[] = [];

/** A running command whose output is collected and can be waited on. */
class Running {
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    started.push(child);
    child.stdout?.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.out);
      if (match) return match;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `${pattern} not printed (exit ${this.child.exitCode})\n--- stdout\n${this.out}\n--- stderr\n${this.err}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function startInstallation(command: string, args: string[]): Running {
  // Its own process group, so that SIGINT to the group is what a terminal's Ctrl-C does.
  return new Running(
    spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

function chat(as: string, dc: string, to: string): Running {
  return new Running(
    spawn(process.execPath, [CTL, 'chat', '--as', as, '--dc', dc, '--to', to], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

async function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CTL, ...args], { cwd: ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function installation(): LocalInstallation {
  return JSON.parse(readFileSync(join(stateDir, 'installation.json'), 'utf8')) as LocalInstallation;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/** An offset for MERIDIAN_PORT_OFFSET whose every port is free now. */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 20_000 + Math.floor(Math.random() * 2_000) * 10;
    const ports = portsOf(layoutFor({ MERIDIAN_PORT_OFFSET: String(offset) }));
    let free = true;
    for (const { port } of ports) free = free && (await portFree(port));
    if (free) return offset;
  }
  throw new Error('no free port range for the local installation');
}

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function stopWithCtrlC(run: Running): Promise<number | null> {
  process.kill(-run.child.pid!, 'SIGINT');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000));
  const code = await Promise.race([run.exited, timeout]);
  if (code === 'timeout') throw new Error(`not stopped within 30 s\n${run.out}\n${run.err}`);
  return code;
}

beforeAll(async () => {
  redis = await leaseRedisDatabase();
  stateDir = mkdtempSync(join(tmpdir(), 'meridian-local-'));
  database = `meridian_smoke_${Math.random().toString(16).slice(2, 10)}`;
  env = {
    ...process.env,
    MERIDIAN_LOCAL_DIR: stateDir,
    MERIDIAN_DATABASE: database,
    MERIDIAN_PORT_OFFSET: String(await freeOffset()),
    REDIS_URL: redis.url,
    PG_ADMIN_URL,
    MERIDIAN_CONTROL_URL: '',
    MERIDIAN_TOKEN: '',
  };
});

afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.spawnargs[0] === 'npm' ? -child.pid! : child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await redis?.release();
  if (database) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs a whole local Meridian: chat across datacenters, a change applied and acknowledged everywhere, Ctrl-C leaves nothing', async () => {
    const t0 = Date.now();
    const run = startInstallation('npm', ['start']);
    const ready = await run.waitFor(/Meridian is ready \(([\d.]+) s\)/, 90_000);
    const startupS = Number(ready[1]);
    console.log(
      `npm start: build + start ${(Date.now() - t0) / 1000} s, of which start ${startupS} s`,
    );

    // The printed table: every router's ports, control, the tokens, how to chat.
    const local = installation();
    expect(local.routers.map((r) => [r.node, r.localHost])).toEqual([
      ['dc1-a', 'dc1.example.com'],
      ['dc1-b', 'dc1.example.com'],
      ['dc2-a', 'dc2.example.com'],
    ]);
    for (const router of local.routers) {
      expect(run.out).toContain(`127.0.0.1:${router.c2sPort}`);
      expect(run.out).toContain(`ws://127.0.0.1:${router.httpPort}/xmpp-websocket`);
    }
    expect(run.out).toContain(`${local.controlUrl}/docs`);
    expect(run.out).toMatch(/alice JWT {2}eyJ/);
    expect(run.out).toMatch(/bob JWT {4}eyJ/);
    expect(run.out).toContain(
      'meridianctl chat --as alice@example.com --dc dc1 --to bob@example.com',
    );
    expect(run.out).toContain('dev TLS: made ca.crt, dc1-a.crt, dc1-b.crt, dc2-a.crt');

    // alice at dc1, bob at dc2, both ways, over STARTTLS verified against the dev CA.
    const alice = chat('alice@example.com', 'dc1', 'bob@example.com');
    const bob = chat('bob@example.com', 'dc2', 'alice@example.com');
    await alice.waitFor(/^online as alice@example\.com\/\S+ \(dc1-a, /m, 20_000);
    await bob.waitFor(/^online as bob@example\.com\/\S+ \(dc2-a, /m, 20_000);
    alice.child.stdin!.write('hello bob, from dc1\n');
    await bob.waitFor(/^alice@example\.com\/\S+: hello bob, from dc1$/m, 10_000);
    bob.child.stdin!.write('hello alice, from dc2\n');
    await alice.waitFor(/^bob@example\.com\/\S+: hello alice, from dc2$/m, 10_000);
    alice.child.stdin!.end();
    bob.child.stdin!.end();
    expect(await alice.exited).toBe(0);
    expect(await bob.exited).toBe(0);

    // A change with meridianctl apply, acknowledged by every router.
    const current = await ctl('get', 'config');
    expect(current.code).toBe(0);
    expect(current.stdout).toContain('maxRetries: 4');
    const file = join(stateDir, 'meridian.yaml');
    writeFileSync(file, current.stdout.replace('maxRetries: 4', 'maxRetries: 5'));
    const applied = await ctl('apply', '-f', file, '--comment', 'smoke test');
    expect(applied.stdout).toContain('~ bounce.maxRetries: 4 -> 5');
    const revision = Number(/applied: revision (\d+)/.exec(applied.stdout)?.[1]);
    expect(applied.code).toBe(0);
    const deadline = Date.now() + 15_000;
    let status = await ctl('status', '-o', 'json');
    while (
      (status.code !== 0 ||
        (JSON.parse(status.stdout) as { latestRevision: number }).latestRevision !== revision) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await ctl('status', '-o', 'json');
    }
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      converged: boolean;
      routers: { node: string; revision: number; status: string; stale: boolean }[];
    };
    expect(report.converged).toBe(true);
    expect(report.routers.map((r) => [r.node, r.revision, r.status, r.stale])).toEqual([
      ['dc1-a', revision, 'ack', false],
      ['dc1-b', revision, 'ack', false],
      ['dc2-a', revision, 'ack', false],
    ]);
    const text = await ctl('status');
    expect(text.stdout).toContain(`latest revision ${revision}: 3 of 3 live routers run it`);

    // Ctrl-C: routers drain, control stops, nothing is left.
    const pids = [local.supervisorPid!, local.controlPid!, ...local.routers.map((r) => r.pid!)];
    expect(pids.every(alive)).toBe(true);
    await stopWithCtrlC(run);
    expect(run.out).toContain('stopping: draining dc1-a, dc1-b, dc2-a');
    expect(run.out).toContain('Meridian stopped.');
    expect(pids.filter(alive)).toEqual([]);
    expect(installation().supervisorPid).toBeNull();
    expect(await redis.client.smembers('dc1.example.com#{nodes}')).toEqual([]);
    expect(await redis.client.smembers('dc2.example.com#{nodes}')).toEqual([]);
  });

  it('runs again on the same state without making anything twice, and refuses to run twice at once', async () => {
    const tlsDir = join(stateDir, 'tls');
    const before = {
      ca: sha(join(tlsDir, 'ca.crt')),
      node: sha(join(tlsDir, 'dc2-a.crt')),
      token: readFileSync(join(stateDir, 'admin-token'), 'utf8'),
    };
    const run = startInstallation(process.execPath, ['dist/scripts/local.js']);
    await run.waitFor(/Meridian is ready/, 60_000);
    expect(run.out).not.toContain('dev TLS: made');
    expect(run.out).not.toContain('seeded');
    expect(sha(join(tlsDir, 'ca.crt'))).toBe(before.ca);
    expect(sha(join(tlsDir, 'dc2-a.crt'))).toBe(before.node);
    expect(readFileSync(join(stateDir, 'admin-token'), 'utf8')).toBe(before.token);
    const revisions = JSON.parse((await ctl('revisions', '-o', 'json')).stdout) as {
      revisions: { comment: string }[];
    };
    expect(revisions.revisions.map((r) => r.comment)).toEqual([
      'smoke test',
      'npm start: local seed',
    ]);

    const second = startInstallation(process.execPath, ['dist/scripts/local.js']);
    expect(await second.exited).toBe(0);
    expect(second.out).toMatch(
      /^Meridian is already running \(npm start, pid \d+\); nothing started\./,
    );

    const pids = [installation().controlPid!, ...installation().routers.map((r) => r.pid!)];
    expect(await stopWithCtrlC(run)).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('refuses a database another version made, and starts over with --reset', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    await client.query(
      `INSERT INTO migrations ("timestamp", name) VALUES (1, 'SomethingElse0000000000001')`,
    );
    await client.end();
    const refused = startInstallation(process.execPath, ['dist/scripts/local.js']);
    expect(await refused.exited).toBe(1);
    expect(refused.err).toContain(
      `the database "${database}" was made by another version of Meridian (migrations SomethingElse0000000000001`,
    );
    expect(refused.err).toContain('npm start -- --reset');

    const run = startInstallation(process.execPath, ['dist/scripts/local.js', '--reset']);
    await run.waitFor(/Meridian is ready/, 60_000);
    expect(run.out).toMatch(/reset: dropped database "meridian_smoke_\w+" and \d+ meridian:\* key/);
    expect(run.out).toContain('seeded the first configuration (revision 1)');
    const revisions = JSON.parse((await ctl('revisions', '-o', 'json')).stdout) as {
      revisions: { number: number }[];
    };
    expect(revisions.revisions.map((r) => r.number)).toEqual([1]);
    expect(await stopWithCtrlC(run)).toBe(0);
  });
});
