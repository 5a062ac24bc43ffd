// `npm start`: a whole local Meridian on this machine's PostgreSQL and Redis. Control (it runs
// the migrations) with a seeded configuration, and routers for two datacenters (dc1: two
// nodes, dc2: one), with a dev CA and certificates made on first run (TLS on c2s and on the
// links). Keeps its state in .local/ (git-ignored): admin token, JWT secret, certificates,
// logs, and installation.json (what runs where, read by meridianctl). Prints a table when
// ready; Ctrl-C drains the routers (SIGTERM), then stops control. Running it again reuses
// everything; a run already going is reported, not duplicated.
// Environment: docs/operations.md#local-installation.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { MIGRATIONS } from '../migrations';
import type { MeridianConfigDocument } from '#config';
import type { RolloutView } from '#control-api';
import { mintDevToken } from '../apps/meridianctl/src/dev-token';
import {
  ADMIN_TOKEN_FILE,
  INSTALLATION_FILE,
  JWT_SECRET_FILE,
  localStateDir,
  readInstallation,
  repositoryRoot,
  type LocalInstallation,
} from '../apps/meridianctl/src/local-installation';
import { banner } from './local/banner';
import { ensureDevTls } from './local/dev-tls';
import {
  asLocalRouter,
  DATACENTERS,
  GLOBAL_HOST,
  layoutFor,
  portsOf,
  type Layout,
} from './local/layout';
import { isOurProcess, ManagedProcess } from './local/processes';

const ENV = process.env;
const ROOT = repositoryRoot(__dirname);
const STATE_DIR = resolve(localStateDir(ENV));
const LOG_DIR = join(STATE_DIR, 'logs');
const PG_ADMIN = ENV.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = ENV.MERIDIAN_DATABASE ?? 'meridian';
const REDIS_URL = ENV.REDIS_URL ?? 'redis://127.0.0.1:6379';
const VERBOSE = ENV.MERIDIAN_VERBOSE === '1' || ENV.MERIDIAN_VERBOSE === 'true';
const TOKEN_TTL = '24h';
const TOKEN_TTL_S = 86_400;
const SUPERVISOR_SCRIPT = 'scripts/local.js';
const SERVICE_SCRIPT = 'dist/apps/';

const say = (line: string) => process.stdout.write(`${line}\n`);
let running: Installation | null = null;

class Installation {
  private readonly processes: ManagedProcess[] = [];
  private stopping = false;
  private failure: string | null = null;
  private record: LocalInstallation | null = null;

  constructor(
    private readonly layout: Layout,
    private readonly adminToken: string,
  ) {}

  get controlUrl(): string {
    return `http://127.0.0.1:${this.layout.controlPort}`;
  }

  start(name: string, script: string, env: NodeJS.ProcessEnv): ManagedProcess {
    const child = new ManagedProcess(
      { name, script: join(ROOT, script), env, logFile: join(LOG_DIR, `${name}.log`) },
      VERBOSE,
      say,
    );
    this.processes.push(child);
    void child.exited.then((exit) => {
      if (this.stopping) return;
      const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
      const first = child.firstError ? `First error: ${child.firstError}\n` : '';
      this.fail(
        `${name} exited (${how}).\n${first}Its last lines:\n` +
          child.tail.map((line) => `  ${line}`).join('\n') +
          `\nFull log: ${child.spec.logFile}`,
      );
    });
    return child;
  }

  /** Something died: say so once, stop the rest, exit 1. */
  fail(message: string): void {
    if (this.failure !== null || this.stopping) return;
    this.failure = message;
    process.stderr.write(`\nnpm start: ${message}\n`);
    void this.stop(1);
  }

  /** Last resort when this process exits without stopping them: no orphans. */
  killAll(): void {
    for (const child of this.processes) child.signal('SIGKILL');
  }

  /** Throws when a child has failed (waiting loops call it). */
  check(): void {
    if (this.failure !== null) throw new Error('startup failed (see above)');
  }

  writeRecord(record: LocalInstallation): void {
    this.record = record;
    writeFileSync(join(STATE_DIR, INSTALLATION_FILE), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** Routers first (they drain: clients get system-shutdown, sessions leave Redis), then control. */
  async stop(code: number): Promise<never> {
    if (this.stopping) {
      // A second Ctrl-C: no more waiting.
      for (const child of this.processes) child.signal('SIGKILL');
      process.exit(130);
    }
    this.stopping = true;
    const control = this.processes.find((p) => p.name === 'control');
    const routers = this.processes.filter((p) => p !== control && p.running);
    if (routers.length > 0) say(`stopping: draining ${routers.map((r) => r.name).join(', ')} ...`);
    const results = await Promise.all(
      routers.map(async (r) => [r.name, await r.stop(20_000)] as const),
    );
    for (const [name, exit] of results) {
      if (exit.code !== 0) say(`${name} ended with ${exit.signal ?? `code ${exit.code}`}`);
    }
    if (control?.running) {
      say('stopping: control ...');
      await control.stop(10_000);
    }
    if (this.record) {
      this.writeRecord({
        ...this.record,
        supervisorPid: null,
        controlPid: null,
        routers: this.record.routers.map((r) => ({ ...r, pid: null })),
      });
    }
    say(code === 0 ? 'Meridian stopped.' : 'Meridian stopped after a failure.');
    process.exit(code);
  }

  async waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.check();
      try {
        if (await probe()) return;
      } catch {
        // not answering yet
      }
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.controlUrl}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${this.adminToken}`,
        'Content-Type': 'application/json',
        ...(init.headers as Record<string, string> | undefined),
      },
      signal: AbortSignal.timeout(10_000),
    });
  }
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const phase = (what: string) => {
    if (VERBOSE) say(`npm start: ${what} after ${Date.now() - startedAt} ms`);
  };
  const layout = layoutFor(ENV);
  mkdirSync(LOG_DIR, { recursive: true });

  const previous = readInstallation(STATE_DIR);
  if (previous && isOurProcess(previous.supervisorPid, SUPERVISOR_SCRIPT)) {
    say(`Meridian is already running (npm start, pid ${previous.supervisorPid}); nothing started.`);
    say(
      banner(
        previous,
        await tokensFor(readFileSync(previous.jwtSecretFile, 'utf8').trim()),
        localDirPrefix(),
      ),
    );
    return;
  }
  await stopLeftovers(previous);
  await checkPortsFree(layout);
  if (process.argv.includes('--reset')) await reset();

  const adminToken = persistentSecret(ADMIN_TOKEN_FILE);
  const jwtSecret = persistentSecret(JWT_SECRET_FILE);
  const tls = ensureDevTls(
    join(STATE_DIR, 'tls'),
    layout.routers.map((r) => r.node),
  );
  if (tls.made.length > 0) say(`dev TLS: made ${tls.made.join(', ')} in ${join(STATE_DIR, 'tls')}`);
  const databaseUrl = new URL(PG_ADMIN);
  databaseUrl.pathname = `/${DATABASE}`;
  await ensureRedis();
  await ensureDatabase(databaseUrl);
  phase('checks, secrets, TLS and database');

  const installation = new Installation(layout, adminToken);
  process.on('SIGINT', () => void installation.stop(0));
  process.on('SIGTERM', () => void installation.stop(0));
  running = installation;
  process.on('exit', () => installation.killAll());

  const logEnv = { LOG_LEVEL: ENV.LOG_LEVEL ?? 'info', LOG_PRETTY: '0' };
  const control = installation.start('control', 'dist/apps/control/src/main.js', {
    ...process.env,
    ...logEnv,
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL,
    PORT: String(layout.controlPort),
    // Control serves plain HTTP here (no CONTROL_TLS_*), so only this machine may reach it.
    CONTROL_HOST: '127.0.0.1',
    MERIDIAN_ADMIN_TOKENS: `admin:${adminToken}`,
  });
  // Routers start beside control: they wait (bounded) for a first revision in Redis.
  const routers = layout.routers.map((slot) => {
    const files = tls.nodes[slot.node]!;
    return {
      slot,
      process: installation.start(slot.node, 'dist/apps/router/src/main.js', {
        ...process.env,
        ...logEnv,
        MERIDIAN_LOCAL_HOST: slot.localHost,
        MERIDIAN_NODE: slot.node,
        REDIS_URL,
        C2S_PORT: String(slot.c2sPort),
        COMPONENT_PORT: String(slot.componentPort),
        HTTP_PORT: String(slot.httpPort),
        INTERLINK_LISTEN: `127.0.0.1:${slot.interlinkPort}`,
        INTERLINK_ADVERTISE: `127.0.0.1:${slot.interlinkPort}`,
        TLS_CERT: files.certFile,
        TLS_KEY: files.keyFile,
        TLS_CA: files.caFile,
      }),
    };
  });
  const record: LocalInstallation = {
    supervisorPid: process.pid,
    controlPid: control.pid,
    startedAt: new Date(startedAt).toISOString(),
    controlUrl: installation.controlUrl,
    globalHost: GLOBAL_HOST,
    caFile: tls.caFile,
    adminTokenFile: join(STATE_DIR, ADMIN_TOKEN_FILE),
    jwtSecretFile: join(STATE_DIR, JWT_SECRET_FILE),
    logDir: LOG_DIR,
    routers: routers.map((r) => asLocalRouter(r.slot, r.process.pid)),
  };
  installation.writeRecord(record);

  await installation.waitFor('control did not answer /health', 60_000, async () => {
    return (await fetch(`${installation.controlUrl}/health`)).ok;
  });
  phase('control healthy');
  await seedOrReconcile(installation, jwtSecret);
  phase('configuration seeded or reconciled');

  await Promise.all(
    routers.map(({ slot }) =>
      installation.waitFor(`router ${slot.node} did not become ready`, 60_000, async () => {
        return (await fetch(`http://127.0.0.1:${slot.httpPort}/health/ready`)).ok;
      }),
    ),
  );
  phase('routers ready');
  const nodes = new Set(layout.routers.map((r) => r.node));
  await installation.waitFor(
    'the routers did not all acknowledge the latest revision',
    30_000,
    async () => {
      const rollout = (await (await installation.api('/v1/routers')).json()) as RolloutView;
      const synced = rollout.routers.filter((r) => nodes.has(r.node) && r.synced && !r.stale);
      return synced.length === nodes.size;
    },
  );

  say(banner(record, await tokensFor(jwtSecret), localDirPrefix()));
  say(`Meridian is ready (${((Date.now() - startedAt) / 1000).toFixed(1)} s). Ctrl-C stops it.`);
}

/**
 * A first configuration when there is none. Otherwise the configuration is the operator's,
 * except for what this installation depends on: the JWT secret of .local/ (so the printed
 * tokens log in) and TLS on the links. No revision when both already hold.
 */
async function seedOrReconcile(installation: Installation, jwtSecret: string): Promise<void> {
  const current = await installation.api('/v1/config');
  if (current.status === 404) {
    const seed = {
      globalHost: GLOBAL_HOST,
      datacenters: DATACENTERS,
      auth: { jwt: { algorithm: 'HS256', secret: jwtSecret } },
    };
    const created = await installation.api('/v1/config?comment=npm%20start%3A%20local%20seed', {
      method: 'PUT',
      body: JSON.stringify(seed),
    });
    if (!created.ok) throw new Error(`seeding the configuration failed: ${await created.text()}`);
    say('seeded the first configuration (revision 1)');
    return;
  }
  if (!current.ok) throw new Error(`reading the configuration failed: ${await current.text()}`);
  const config = (await current.json()) as MeridianConfigDocument;
  const jwt = config.auth?.jwt;
  const hs256 = jwt?.algorithm === undefined || jwt.algorithm === 'HS256';
  if (!hs256) {
    say(
      `note: auth.jwt.algorithm is ${jwt?.algorithm}; the JWTs printed below (HS256) will not log in`,
    );
  }
  const updated = {
    ...config,
    connections: { ...config.connections, tls: { ...config.connections?.tls, enabled: true } },
    auth: hs256
      ? { ...config.auth, jwt: { ...jwt, algorithm: 'HS256', secret: jwtSecret } }
      : config.auth,
  };
  const answer = await installation.api(
    '/v1/config?comment=npm%20start%3A%20JWT%20secret%20of%20.local%2F%20and%20TLS%20on%20the%20links',
    {
      method: 'PUT',
      headers: { 'If-Match': current.headers.get('etag') ?? '*' },
      body: JSON.stringify(updated),
    },
  );
  if (!answer.ok) throw new Error(`reconciling the configuration failed: ${await answer.text()}`);
  const outcome = (await answer.json()) as { outcome: string; revision: { number: number } };
  if (outcome.outcome === 'created') {
    say(
      `revision ${outcome.revision.number}: set the JWT secret of .local/jwt-secret and TLS on the links, which this installation needs`,
    );
  }
}

async function tokensFor(secret: string) {
  const mint = async (jid: string) =>
    (await mintDevToken({ jid, secret, ttlSeconds: TOKEN_TTL_S })).token;
  return {
    alice: await mint(`alice@${GLOBAL_HOST}`),
    bob: await mint(`bob@${GLOBAL_HOST}`),
    ttl: TOKEN_TTL,
  };
}

/** What meridianctl needs to find this installation when it is not in the default .local/. */
function localDirPrefix(): string {
  return resolve(STATE_DIR) === resolve(ROOT, '.local') ? '' : `MERIDIAN_LOCAL_DIR=${STATE_DIR} `;
}

/** Control and routers of a run whose `npm start` was killed: stop them before starting anew. */
async function stopLeftovers(previous: LocalInstallation | null): Promise<void> {
  if (!previous) return;
  const pids = [previous.controlPid, ...previous.routers.map((r) => r.pid)].filter(
    (pid): pid is number => isOurProcess(pid, SERVICE_SCRIPT),
  );
  if (pids.length === 0) return;
  say(`stopping ${pids.length} process(es) left by an earlier run: ${pids.join(', ')}`);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (pids.some((pid) => isOurProcess(pid, SERVICE_SCRIPT))) {
    if (Date.now() > deadline) {
      for (const pid of pids) if (isOurProcess(pid, SERVICE_SCRIPT)) process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function checkPortsFree(layout: Layout): Promise<void> {
  const taken: string[] = [];
  for (const { port, what } of portsOf(layout)) {
    const free = await new Promise<boolean>((done) => {
      const probe = createServer();
      probe.once('error', () => done(false));
      probe.listen(port, () => probe.close(() => done(true)));
    });
    if (!free) taken.push(`${port} (${what})`);
  }
  if (taken.length > 0) {
    throw new Error(
      `port(s) already in use: ${taken.join(', ')}. Stop what holds them, or run with ` +
        'MERIDIAN_PORT_OFFSET=<n> (every port + n) and PORT=<control port>.',
    );
  }
}

function persistentSecret(name: string): string {
  const file = join(STATE_DIR, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = randomBytes(32).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

async function ensureRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${(err as Error).message}); set REDIS_URL`,
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

const databaseName = () => `"${DATABASE.replace(/"/g, '')}"`;

async function adminClient(): Promise<Client> {
  const client = new Client({ connectionString: PG_ADMIN });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN} (${(err as Error).message}); set PG_ADMIN_URL`,
      { cause: err },
    );
  }
  return client;
}

/** Creates the database when missing; refuses one whose schema another version made. */
async function ensureDatabase(databaseUrl: URL): Promise<void> {
  const admin = await adminClient();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${databaseName()}`);
      return;
    }
  } finally {
    await admin.end();
  }
  const client = new Client({ connectionString: databaseUrl.toString() });
  await client.connect();
  try {
    const table = await client.query(`SELECT to_regclass('public.migrations') AS name`);
    if ((table.rows[0] as { name: string | null }).name === null) return;
    const applied = (await client.query('SELECT name FROM migrations')).rows as { name: string }[];
    const known = new Set(MIGRATIONS.map((migration) => migration.name));
    const unknown = applied.map((row) => row.name).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new Error(
        `the database "${DATABASE}" was made by another version of Meridian (migrations ${unknown.join(', ')} ` +
          "are not this version's). Start over with `npm start -- --reset` (drops it and Meridian's Redis keys).",
      );
    }
  } finally {
    await client.end();
  }
}

/** `--reset`: drop the database and Meridian's keys in Redis, to start from a fresh seed. */
async function reset(): Promise<void> {
  const admin = await adminClient();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName()} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let removed = 0;
  try {
    await redis.connect();
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'meridian:*', 'COUNT', 1000);
      for (const key of keys) removed += await redis.del(key);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  say(`reset: dropped database "${DATABASE}" and ${removed} meridian:* key(s) in ${REDIS_URL}`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (running) {
    running.fail(message);
  } else {
    process.stderr.write(`npm start: ${message}\n`);
    process.exit(1);
  }
});
