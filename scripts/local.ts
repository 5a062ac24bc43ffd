// `npm start`: a local Meridian on this machine's PostgreSQL and Redis. Creates the database
// if needed, keeps a dev admin token in .local/ (git-ignored), starts control (which runs the
// migrations), seeds a first configuration when there is none, and stops cleanly on Ctrl-C.
// Running it twice reuses everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

const ROOT = join(__dirname, '..', '..');
const STATE_DIR = join(ROOT, '.local');
const PG_ADMIN = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = process.env.MERIDIAN_DATABASE ?? 'meridian';
const PORT = Number(process.env.PORT ?? 8080);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const SEED = {
  globalHost: 'example.com',
  datacenters: [
    { localHost: 'dc1.example.com', region: 'local-1' },
    { localHost: 'dc2.example.com', region: 'local-2' },
  ],
  connections: { tls: { enabled: false } },
  auth: { jwt: { algorithm: 'HS256', secret: '' } },
};

async function main(): Promise<void> {
  mkdirSync(STATE_DIR, { recursive: true });
  const adminToken = persistentSecret('admin-token');
  const jwtSecret = persistentSecret('jwt-secret');
  await ensureDatabase();

  const databaseUrl = new URL(PG_ADMIN);
  databaseUrl.pathname = `/${DATABASE}`;
  const control = spawn(process.execPath, [join(ROOT, 'dist/apps/control/src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL,
      PORT: String(PORT),
      MERIDIAN_ADMIN_TOKENS: `admin:${adminToken}`,
      LOG_PRETTY: process.env.LOG_PRETTY ?? '1',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stop = stopper([control]);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  control.on('exit', (code) => {
    console.error(`control exited (${code})`);
    process.exit(code ?? 1);
  });

  const base = `http://127.0.0.1:${PORT}`;
  await waitForHealth(`${base}/health`);
  const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
  const current = await fetch(`${base}/v1/config`, { headers });
  if (current.status === 404) {
    const seed = { ...SEED, auth: { jwt: { ...SEED.auth.jwt, secret: jwtSecret } } };
    const created = await fetch(`${base}/v1/config?comment=local%20seed`, {
      method: 'PUT',
      headers,
      body: JSON.stringify(seed),
    });
    if (!created.ok) throw new Error(`seeding the configuration failed: ${await created.text()}`);
  }
  console.log(
    [
      '',
      'Meridian control is up',
      `  API        ${base}/v1   (Authorization: Bearer ${adminToken})`,
      `  API docs   ${base}/docs`,
      `  health     ${base}/health`,
      `  try        curl -s -H 'Authorization: Bearer ${adminToken}' ${base}/v1/config`,
      '  Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
}

function persistentSecret(name: string): string {
  const file = join(STATE_DIR, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = randomBytes(24).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

async function ensureDatabase(): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0)
      await client.query(`CREATE DATABASE "${DATABASE.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`control did not become healthy at ${url}`);
}

function stopper(children: ChildProcess[]): () => void {
  let stopping = false;
  return () => {
    if (stopping) return;
    stopping = true;
    for (const child of children) {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    }
    Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve)))).then(() =>
      process.exit(0),
    );
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
