// The Meridian a benchmark measures: the local installation of `npm start` (control, routers
// dc1-a and dc1-b for dc1, dc2-a for dc2), started here on free ports with its own database,
// its own redis-server and state folder and removed afterwards; or the one already running
// (`--attach`), measured as it is configured.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { RolloutView } from '#control-api';
import {
  localStateDir,
  readInstallation,
  repositoryRoot,
  type LocalInstallation,
  type LocalRouter,
} from '../../apps/meridianctl/src/local-installation';
import { mintDevToken } from '../../apps/meridianctl/src/dev-token';
import { type Cleanup, messageOf, startRedis, stopChild, track } from '../bench-support';
import { layoutFor, portsOf } from '../local/layout';
import type { MeasuredProcess } from './stats';
import type { XmppTarget } from './raw-xmpp';

const ROOT = repositoryRoot(__dirname);
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const READY_TIMEOUT_MS = 120_000;

export interface MeridianUnderTest {
  readonly installation: LocalInstallation;
  readonly domain: string;
  /** The router nodes and, apart, control and Redis (when started here). */
  readonly processes: MeasuredProcess[];
  target(node: string): XmppTarget;
  /** A JWT for `localpart`, signed with the installation's secret. */
  password(localpart: string): Promise<string>;
  api(path: string, init?: RequestInit): Promise<Response>;
}

export interface StartOptions {
  readonly attach: boolean;
  /** Extra environment for every Meridian process (NODE_OPTIONS=--cpu-prof, say). */
  readonly env: Record<string, string>;
  readonly log: (line: string) => void;
  /** Asked at cleanup: keep the processes' logs (after a failure, say). */
  readonly keepLogs?: () => boolean;
}

export async function meridianUnderTest(
  options: StartOptions,
  cleanup: Cleanup,
): Promise<MeridianUnderTest> {
  if (options.attach) {
    const stateDir = path.resolve(localStateDir(process.env));
    const installation = readInstallation(stateDir);
    if (!installation?.supervisorPid || !alive(installation.supervisorPid)) {
      throw new Error(`no running local installation in ${stateDir} (start one with npm start)`);
    }
    options.log(`attached to the local installation of ${stateDir} (configuration unchanged)`);
    return describe(installation, [], 'if-required');
  }
  const redis = await startRedis(cleanup);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'));
  cleanup.add('state folder', async () => {
    if (options.keepLogs?.() && existsSync(path.join(stateDir, 'logs'))) {
      const kept = `${stateDir}-logs`;
      renameSync(path.join(stateDir, 'logs'), kept);
      options.log(`the installation's logs are kept in ${kept}`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  });
  const database = `meridian_bench_${process.pid}`;
  cleanup.add('database', () => dropDatabase(database));
  const offset = await freeOffset();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/scripts/local.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...options.env,
      MERIDIAN_LOCAL_DIR: stateDir,
      MERIDIAN_PORT_OFFSET: String(offset),
      MERIDIAN_DATABASE: database,
      REDIS_URL: redis.url,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      PORT: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(child);
  cleanup.add('local installation', () => stopChild(child, exited, 'SIGINT', 30_000));
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) output.push(line);
        if (line.startsWith('Meridian is ready')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${how}):\n${output.slice(-15).join('\n')}`));
    });
  });
  const installation = readInstallation(stateDir);
  if (!installation) throw new Error(`no installation.json in ${stateDir}`);
  options.log(
    `started the local installation: control ${installation.controlUrl}, routers ` +
      installation.routers.map((r) => `${r.node} (c2s ${r.c2sPort})`).join(', ') +
      `, database ${database}`,
  );
  const meridian = describe(
    installation,
    [{ name: 'redis-server', pids: () => [redis.pid] }],
    'never',
  );
  await configureForLoad(meridian);
  return meridian;
}

function describe(
  installation: LocalInstallation,
  extra: MeasuredProcess[],
  tls: XmppTarget['tls'],
): MeridianUnderTest {
  const secret = readFileSync(installation.jwtSecretFile, 'utf8').trim();
  const adminToken = readFileSync(installation.adminTokenFile, 'utf8').trim();
  const ca = readFileSync(installation.caFile);
  const router = (node: string): LocalRouter => {
    const found = installation.routers.find((r) => r.node === node);
    if (!found) throw new Error(`no router ${node} in this installation`);
    return found;
  };
  return {
    installation,
    domain: installation.globalHost,
    processes: [
      ...installation.routers.map((r) => ({ name: r.node, pids: () => (r.pid ? [r.pid] : []) })),
      { name: 'control', pids: () => (installation.controlPid ? [installation.controlPid] : []) },
      ...extra,
    ],
    target: (node) => ({
      host: '127.0.0.1',
      port: router(node).c2sPort,
      domain: installation.globalHost,
      tls,
      ca,
    }),
    password: async (localpart) =>
      (await mintDevToken({ jid: localpart, secret, ttlSeconds: 86_400 })).token,
    api: (apiPath, init = {}) =>
      fetch(`${installation.controlUrl}${apiPath}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${adminToken}`,
          'Content-Type': 'application/json',
          ...(init.headers as Record<string, string> | undefined),
        },
        signal: AbortSignal.timeout(30_000),
      }),
  };
}

/**
 * The installation's own configuration, with what a load test on loopback needs, as for the
 * server it is compared with: PLAIN without TLS (loopback only), no per-IP connection cap and
 * no per-session rate limit (traffic shapers off). Waits until every router runs it.
 */
async function configureForLoad(meridian: MeridianUnderTest): Promise<void> {
  const current = await meridian.api('/v1/config');
  if (!current.ok) throw new Error(`GET /v1/config: ${current.status} ${await current.text()}`);
  const config = (await current.json()) as Record<string, Record<string, unknown>>;
  const updated = {
    ...config,
    auth: { ...config.auth, allowPlaintext: true },
    limits: {
      ...config.limits,
      maxConnectionsPerIp: 1_000_000,
      stanzasPerSecond: 1_000_000,
      stanzaBurst: 10_000_000,
    },
  };
  const answer = await meridian.api('/v1/config?comment=bench%3A%20load%20on%20loopback', {
    method: 'PUT',
    body: JSON.stringify(updated),
  });
  if (!answer.ok) throw new Error(`PUT /v1/config: ${answer.status} ${await answer.text()}`);
  await waitForRollout(meridian);
}

/** Until every router of the installation acknowledges the latest revision. */
export async function waitForRollout(
  meridian: MeridianUnderTest,
  timeoutMs = 30_000,
): Promise<void> {
  const nodes = new Set(meridian.installation.routers.map((r) => r.node));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rollout = (await (await meridian.api('/v1/routers')).json()) as RolloutView;
    const synced = rollout.routers.filter(
      (r) => nodes.has(r.node) && r.synced && r.revision === rollout.latestRevision,
    );
    if (synced.length === nodes.size) return;
    if (Date.now() > deadline) {
      throw new Error(`routers did not all run revision ${rollout.latestRevision} in time`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A port offset at which every port of the local layout is free, all of them below Linux's
 * ephemeral range (32768 and up), where the benchmark's own outgoing connections could take one.
 */
async function freeOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 12_000 + Math.floor(Math.random() * 14_000);
    const ports = portsOf(layoutFor({ MERIDIAN_PORT_OFFSET: String(offset) }));
    const free = await Promise.all(ports.map(({ port }) => portFree(port)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('found no port offset with every port of the local layout free');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function dropDatabase(database: string): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } catch (error) {
    throw new Error(`dropping ${database}: ${messageOf(error)}`, { cause: error });
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
