// Benchmark: sustained dynamic-domain creations through control's REST API, and how soon each
// one is published on Redis (ARCHITECTURE §4b budget: 400/s, live within 1 s).
//
//   npm run bench:domains -- [--count 20000] [--concurrency 16] [--log-level warn]
//                            [--drain-timeout 15] [--cpu-prof <dir>]
//
// It runs control (dist/) as a child process on a fresh PostgreSQL database and a leased Redis
// database number, and removes all of it afterwards, also on error or Ctrl-C.
// BENCH_PG_URL (admin connection) and BENCH_REDIS_URL (server, no db) say where those live.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DOMAIN_EVENTS_KEPT,
  DOMAIN_EVENTS_KEY,
  DOMAIN_SEQ_KEY,
  DOMAINS_CHANNEL,
  DOMAINS_KEY,
  encodeDomainState,
} from '#redis-keys';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Cleanup, freePort, messageOf, procCpuMs, runBenchmark, UsageError } from './bench-support';

const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_BASE_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Same lease keys as the integration tests, so a bench and a test run never share a number. */
const leaseKey = (db: number) => `meridian-test:lease:${db}`;
const LEASE_S = 900;
const CONTROL_MAIN = path.resolve(__dirname, '../apps/control/src/main.js');
const REPO_ROOT = path.resolve(__dirname, '../..');
const HOST_TYPE = 'default';
const GOAL_RATE = 400;
const GOAL_LAG_MS = 1000;

interface Options {
  readonly count: number;
  readonly concurrency: number;
  readonly logLevel: string;
  readonly drainTimeoutS: number;
  readonly cpuProfDir: string | null;
}

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      throw new UsageError('');
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument "${arg}"`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
    values.set(match[1]!, value);
  }
  const int = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    values.delete(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const options: Options = {
    count: int('count', 20_000, 1),
    concurrency: int('concurrency', 16, 1),
    drainTimeoutS: int('drain-timeout', 15, 1),
    logLevel: values.get('log-level') ?? 'warn',
    cpuProfDir: values.has('cpu-prof') ? path.resolve(values.get('cpu-prof')!) : null,
  };
  values.delete('log-level');
  values.delete('cpu-prof');
  if (values.size > 0) throw new UsageError(`unknown option --${[...values.keys()][0]}`);
  return options;
}

// ---------------------------------------------------------------------------------------------
// Resources, each registered with its undo as soon as it exists.

async function createDatabase(cleanup: Cleanup): Promise<string> {
  const name = `meridian_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  cleanup.add(`database ${name}`, async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

interface RedisLease {
  readonly db: number;
  readonly url: string;
}

async function leaseRedisDatabase(cleanup: Cleanup): Promise<RedisLease> {
  const admin = new Redis(REDIS_BASE_URL, { maxRetriesPerRequest: 2 });
  const owner = randomBytes(8).toString('hex');
  try {
    const databases = Number(((await admin.config('GET', 'databases')) as string[])[1] ?? 16);
    for (let attempt = 0; attempt < 600; attempt++) {
      for (let db = 1; db < databases; db++) {
        if ((await admin.set(leaseKey(db), owner, 'EX', LEASE_S, 'NX')) !== 'OK') continue;
        const url = `${REDIS_BASE_URL}/${db}`;
        const keeper = new Redis(REDIS_BASE_URL, { maxRetriesPerRequest: 2 });
        // A long run must not outlive its lease and have a test flush the database under it.
        const renew = setInterval(() => {
          keeper.expire(leaseKey(db), LEASE_S).catch(() => undefined);
        }, 60_000);
        renew.unref();
        cleanup.add(`redis database ${db}`, async () => {
          clearInterval(renew);
          const client = new Redis(url, { maxRetriesPerRequest: 2 });
          try {
            await client.flushdb();
          } finally {
            client.disconnect();
          }
          if ((await keeper.get(leaseKey(db))) === owner) await keeper.del(leaseKey(db));
          keeper.disconnect();
        });
        const client = new Redis(url, { maxRetriesPerRequest: 2 });
        await client.flushdb().finally(() => client.disconnect());
        return { db, url };
      }
      await sleep(100);
    }
    throw new Error('no free Redis database after 60 s');
  } finally {
    admin.disconnect();
  }
}

interface Control {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  readonly token: string;
  /** The last lines control wrote, for error reports. */
  tail(): string;
  /** Set once the child has exited. */
  exited(): string | null;
}

async function startControl(
  cleanup: Cleanup,
  options: Options,
  databaseUrl: string,
  redisUrl: string,
): Promise<Control> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const nodeArgs: string[] = [];
  if (options.cpuProfDir) {
    // Nest re-raises SIGTERM after its shutdown hooks, which kills node before --cpu-prof
    // writes its file; an explicit exit on SIGUSR2 lets the profile be written.
    const preload = path.join(
      mkdtempSync(path.join(tmpdir(), 'meridian-bench-')),
      'exit-on-usr2.js',
    );
    writeFileSync(preload, "process.on('SIGUSR2', () => process.exit(0));\n");
    cleanup.add('profiling preload', async () =>
      rmSync(path.dirname(preload), { recursive: true }),
    );
    nodeArgs.push('--require', preload, '--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  const child = spawn(process.execPath, [...nodeArgs, CONTROL_MAIN], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      PORT: String(port),
      MERIDIAN_ADMIN_TOKENS: `bench:${token}`,
      MERIDIAN_MIGRATE: 'true',
      LOG_LEVEL: options.logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitedWith: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (error) => {
      exitedWith = `spawn error: ${error.message}`;
      resolve();
    });
  });
  cleanup.add('control process', async () => {
    if (exitedWith !== null) return;
    child.kill(options.cpuProfDir ? 'SIGUSR2' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  if (child.pid === undefined) {
    await exited;
    throw new Error(`control did not start: ${exitedWith}`);
  }
  return {
    child,
    pid: child.pid,
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    tail: () => lines.join('\n'),
    exited: () => exitedWith,
  };
}

async function waitForHealth(control: Control, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    const gone = control.exited();
    if (gone) throw new Error(`control exited (${gone}) before it was healthy:\n${control.tail()}`);
    try {
      const response = await fetch(`${control.baseUrl}/health`, {
        signal: AbortSignal.timeout(2000),
      });
      if (response.status === 200) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = messageOf(error);
    }
    await sleep(100);
  }
  throw new Error(`control not healthy after ${timeoutMs} ms (${last}):\n${control.tail()}`);
}

async function createConfiguration(control: Control): Promise<void> {
  const response = await fetch(`${control.baseUrl}/v1/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      globalHost: 'example.com',
      datacenters: [{ localHost: 'dc1.example.com' }],
    }),
  });
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`PUT /v1/config answered ${response.status}: ${await response.text()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/** What the subscriber saw of this run's domains, in arrival order. */
interface PublishLog {
  readonly seqs: number[];
  readonly indexes: number[];
  readonly times: number[];
  /** Messages on the channel that are not this run's (the channel is server-wide). */
  foreign: number;
  malformed: number;
}

async function subscribe(
  cleanup: Cleanup,
  redisUrl: string,
  indexOf: (domain: string) => number | undefined,
): Promise<PublishLog> {
  const log: PublishLog = { seqs: [], indexes: [], times: [], foreign: 0, malformed: 0 };
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  cleanup.add('redis subscriber', async () => subscriber.disconnect());
  subscriber.on('message', (_channel: string, message: string) => {
    const at = performance.now();
    let event: { seq?: unknown; domain?: unknown };
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      log.malformed++;
      return;
    }
    const index = typeof event.domain === 'string' ? indexOf(event.domain) : undefined;
    if (index === undefined || typeof event.seq !== 'number') {
      log.foreign++;
      return;
    }
    log.seqs.push(event.seq);
    log.indexes.push(index);
    log.times.push(at);
  });
  await subscriber.subscribe(DOMAINS_CHANNEL);
  return log;
}

interface LoadResult {
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Per domain index: when its request was sent and when the answer arrived (ms). */
  readonly sentAt: Float64Array;
  readonly answeredAt: Float64Array;
  readonly status: Uint16Array;
  readonly failures: Map<string, number>;
  readonly failureSamples: string[];
}

async function createDomains(
  control: Control,
  domains: readonly string[],
  concurrency: number,
  stop: AbortSignal,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(control.baseUrl);
  const body = Buffer.from(JSON.stringify({ hostType: HOST_TYPE }));
  const headers = {
    authorization: `Bearer ${control.token}`,
    'content-type': 'application/json',
    'content-length': String(body.length),
  };
  const n = domains.length;
  const result: LoadResult = {
    startedAt: performance.now(),
    finishedAt: 0,
    sentAt: new Float64Array(n),
    answeredAt: new Float64Array(n),
    status: new Uint16Array(n),
    failures: new Map(),
    failureSamples: [],
  };
  const fail = (index: number, reason: string, detail: string) => {
    result.failures.set(reason, (result.failures.get(reason) ?? 0) + 1);
    if (result.failureSamples.length < 5)
      result.failureSamples.push(`${domains[index]}: ${reason} ${detail}`);
  };
  const put = (index: number) =>
    new Promise<void>((resolve) => {
      result.sentAt[index] = performance.now();
      const request = http.request(
        {
          agent,
          hostname: url.hostname,
          port: url.port,
          method: 'PUT',
          path: `/v1/domains/${domains[index]}`,
          headers,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status === 201) {
            result.answeredAt[index] = performance.now();
            result.status[index] = status;
            response.resume();
            response.once('end', resolve);
            return;
          }
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => {
            result.answeredAt[index] = performance.now();
            result.status[index] = status;
            fail(index, `HTTP ${status}`, Buffer.concat(chunks).toString('utf8').slice(0, 200));
            resolve();
          });
        },
      );
      request.setTimeout(30_000, () => request.destroy(new Error('no answer in 30 s')));
      request.once('error', (error) => {
        result.answeredAt[index] = performance.now();
        fail(index, 'network error', error.message);
        resolve();
      });
      request.end(body);
    });

  let next = 0;
  const worker = async () => {
    while (!stop.aborted) {
      const index = next++;
      if (index >= n) return;
      await put(index);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } finally {
    agent.destroy();
  }
  return { ...result, finishedAt: performance.now() };
}

async function waitForPublishes(
  log: PublishLog,
  count: number,
  timeoutMs: number,
  control: Control,
) {
  const deadline = performance.now() + timeoutMs;
  while (log.seqs.length < count && performance.now() < deadline && !control.exited()) {
    await sleep(20);
  }
}

/** All CPUs' busy time in ms since boot (Linux /proc/stat), and how many CPUs there are. */
function machineCpuMs(ticksPerSecond: number): { busy: number; cores: number } | null {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const [, ...fields] = lines[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    const cores = lines.filter((line) => /^cpu\d+ /.test(line)).length;
    return { busy: (busy * 1000) / ticksPerSecond, cores };
  } catch {
    return null;
  }
}

/** The Redis server's pid when it runs on this machine (its CPU is then measurable). */
async function redisServerPid(url: string): Promise<number | null> {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return null;
  const client = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const match = /^process_id:(\d+)/m.exec(await client.info('server'));
    return match ? Number(match[1]) : null;
  } finally {
    client.disconnect();
  }
}

function procPeakRssMb(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU of the PostgreSQL backends serving the bench database (the pool keeps them alive). */
async function postgresCpuMs(database: string, ticks: number): Promise<Map<number, number>> {
  const rows = await adminQuery<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1',
    [database],
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = procCpuMs(pid, ticks);
    if (ms !== null) cpu.set(pid, ms);
  }
  return cpu;
}

interface Distribution {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function distribution(values: ArrayLike<number>): Distribution | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]!) };
}

// ---------------------------------------------------------------------------------------------
// A run: set up, load, then judge what control did.

interface CpuUse {
  /** CPU ms spent during the load phase; null where it could not be read. */
  readonly control: number | null;
  readonly postgres: number;
  readonly redis: number | null;
  readonly bench: number;
  readonly machine: { readonly cores: number; readonly busy: number } | null;
}

interface RedisState {
  readonly seq: number;
  readonly hashEntries: number;
  readonly eventsKept: number;
  /** This run's domains absent from the hash or with another value. */
  readonly wrongValues: number;
}

interface Measurement {
  readonly options: Options;
  readonly load: LoadResult;
  readonly published: PublishLog;
  readonly cpu: CpuUse;
  readonly redis: RedisState;
  readonly controlExit: string | null;
  readonly controlPeakRssMb: number | null;
  readonly controlTail: string;
}

async function measure(
  options: Options,
  cleanup: Cleanup,
  stop: AbortSignal,
): Promise<Measurement> {
  const ticks = clockTicks();
  const databaseUrl = await createDatabase(cleanup);
  const databaseName = new URL(databaseUrl).pathname.slice(1);
  const lease = await leaseRedisDatabase(cleanup);
  const control = await startControl(cleanup, options, databaseUrl, lease.url);
  await waitForHealth(control, 60_000);
  await createConfiguration(control);

  const tag = randomBytes(4).toString('hex');
  const domains = Array.from({ length: options.count }, (_, i) => `d${i}.${tag}.bench.example`);
  const indexByDomain = new Map(domains.map((domain, index) => [domain, index]));
  const published = await subscribe(cleanup, lease.url, (domain) => indexByDomain.get(domain));

  console.log(
    `bench: control pid ${control.pid} at ${control.baseUrl}, database ${databaseName}, ` +
      `redis db ${lease.db}; creating ${options.count} domains with ${options.concurrency} connections`,
  );
  const redisPid = await redisServerPid(lease.url);
  const pgBefore = await postgresCpuMs(databaseName, ticks);
  const redisBefore = redisPid === null ? null : procCpuMs(redisPid, ticks);
  const machineBefore = machineCpuMs(ticks);
  const controlBefore = procCpuMs(control.pid, ticks);
  const benchBefore = process.cpuUsage();
  const load = await createDomains(control, domains, options.concurrency, stop);
  const controlAfter = procCpuMs(control.pid, ticks);
  const benchUsage = process.cpuUsage(benchBefore);
  const machineAfter = machineCpuMs(ticks);
  const redisAfter = redisPid === null ? null : procCpuMs(redisPid, ticks);
  const pgAfter = await postgresCpuMs(databaseName, ticks);
  if (stop.aborted) throw new Error('interrupted');

  let postgres = 0;
  for (const [pid, after] of pgAfter) postgres += after - (pgBefore.get(pid) ?? 0);
  const cpu: CpuUse = {
    control: controlBefore !== null && controlAfter !== null ? controlAfter - controlBefore : null,
    postgres,
    redis: redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null,
    bench: (benchUsage.user + benchUsage.system) / 1000,
    machine:
      machineBefore && machineAfter
        ? { cores: machineAfter.cores, busy: machineAfter.busy - machineBefore.busy }
        : null,
  };

  const created = load.status.reduce((sum, status) => sum + (status === 201 ? 1 : 0), 0);
  await waitForPublishes(published, created, options.drainTimeoutS * 1000, control);
  return {
    options,
    load,
    published,
    cpu,
    redis: await readRedisState(lease.url, domains),
    controlExit: control.exited(),
    controlPeakRssMb: procPeakRssMb(control.pid),
    controlTail: control.tail(),
  };
}

async function readRedisState(url: string, domains: readonly string[]): Promise<RedisState> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const expected = encodeDomainState(HOST_TYPE, true);
    let wrongValues = 0;
    for (let i = 0; i < domains.length; i += 1000) {
      const values = await redis.hmget(DOMAINS_KEY, ...domains.slice(i, i + 1000));
      wrongValues += values.filter((v) => v !== expected).length;
    }
    return {
      seq: Number((await redis.get(DOMAIN_SEQ_KEY)) ?? 0),
      hashEntries: await redis.hlen(DOMAINS_KEY),
      eventsKept: await redis.llen(DOMAIN_EVENTS_KEY),
      wrongValues,
    };
  } finally {
    redis.disconnect();
  }
}

/** The run's figures; printed as the final JSON line. */
interface Summary {
  readonly bench: 'domains';
  readonly count: number;
  readonly concurrency: number;
  readonly logLevel: string;
  readonly created: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly elapsedS: number;
  readonly ratePerS: number;
  /** Answers per 1-second window; the last, partial window is left out. */
  readonly windowRatePerS: {
    readonly min: number;
    readonly median: number;
    readonly max: number;
    readonly windows: number;
    readonly underGoal: number;
    readonly series: number[];
  } | null;
  readonly latencyMs: Distribution | null;
  /** Time from the 201 reaching the bench to the event reaching its subscriber. */
  readonly pushLagMs: (Distribution & { over1s: number; beforeAnswer: number }) | null;
  /** Last publication minus last 201; negative when Redis was ahead of the HTTP answer. */
  readonly drainMs: number;
  readonly published: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly foreignMessages: number;
  readonly redis: Omit<RedisState, 'wrongValues'>;
  readonly cpuMs: {
    readonly control: number | null;
    readonly postgres: number;
    readonly redis: number | null;
    readonly bench: number;
    readonly machineBusy: number | null;
    /** Busy time of everything else on the host: large values make the figures pessimistic. */
    readonly otherProcesses: number | null;
    readonly cores: number | null;
  };
  readonly controlPeakRssMb: number | null;
  readonly goal: { readonly ratePerS: number; readonly lagMs: number; readonly met: boolean };
  readonly problems: string[];
  readonly ok: boolean;
}

function summarise(m: Measurement): Summary {
  const { options, load, published, cpu, redis } = m;
  const n = options.count;
  const ok201 = (i: number) => load.status[i] === 201;

  let created = 0;
  let last201 = load.startedAt;
  const latencies: number[] = [];
  const elapsedMs = load.finishedAt - load.startedAt;
  const windowCount = Math.max(1, Math.floor(elapsedMs / 1000));
  const perWindow = new Array<number>(windowCount).fill(0);
  for (let i = 0; i < n; i++) {
    if (!ok201(i)) continue;
    created++;
    last201 = Math.max(last201, load.answeredAt[i]!);
    latencies.push(load.answeredAt[i]! - load.sentAt[i]!);
    const window = Math.floor((load.answeredAt[i]! - load.startedAt) / 1000);
    if (window < windowCount) perWindow[window]!++;
  }
  const sortedWindows = [...perWindow].sort((a, b) => a - b);

  // Every seq 1..N exactly once and in order, each domain once; lag from each one's 201.
  const timesSeen = new Uint32Array(n);
  const lags: number[] = [];
  let outOfOrder = published.seqs.length > 0 && published.seqs[0] !== 1 ? 1 : 0;
  let duplicates = 0;
  let beforeAnswer = 0;
  for (let k = 0; k < published.seqs.length; k++) {
    if (k > 0 && published.seqs[k] !== published.seqs[k - 1]! + 1) outOfOrder++;
    const index = published.indexes[k]!;
    if (timesSeen[index]!++ > 0) {
      duplicates++;
    } else if (ok201(index)) {
      const lag = published.times[k]! - load.answeredAt[index]!;
      if (lag < 0) beforeAnswer++;
      lags.push(lag);
    }
  }
  let missing = 0;
  for (let i = 0; i < n; i++) if (timesSeen[i] === 0 && ok201(i)) missing++;
  const lag = distribution(lags);
  const lagOver1s = lags.filter((l) => l > GOAL_LAG_MS).length;
  const lastPublished = published.times[published.times.length - 1];

  const failed = n - created;
  const problems: string[] = [];
  const expect = (good: boolean, problem: string) => {
    if (!good) problems.push(problem);
  };
  expect(failed === 0, `${failed} requests failed`);
  expect(missing === 0, `${missing} domains never published`);
  expect(duplicates === 0, `${duplicates} duplicate publications`);
  expect(outOfOrder === 0, `${outOfOrder} publications out of seq order`);
  expect(published.seqs.length === n, `${published.seqs.length} publications for ${n} domains`);
  expect(redis.seq === n, `${DOMAIN_SEQ_KEY} is ${redis.seq}, not ${n}`);
  expect(redis.hashEntries === n, `${DOMAINS_KEY} has ${redis.hashEntries} entries, not ${n}`);
  expect(
    redis.wrongValues === 0,
    `${redis.wrongValues} domains missing or wrong in ${DOMAINS_KEY}`,
  );
  expect(
    redis.eventsKept === Math.min(n, DOMAIN_EVENTS_KEPT),
    `${DOMAIN_EVENTS_KEY} holds ${redis.eventsKept} events`,
  );
  expect(
    published.malformed === 0,
    `${published.malformed} unparsable messages on ${DOMAINS_CHANNEL}`,
  );
  expect(m.controlExit === null, `control exited during the run (${m.controlExit})`);
  const windowRate =
    elapsedMs >= 1000
      ? {
          min: sortedWindows[0]!,
          median: sortedWindows[Math.floor((sortedWindows.length - 1) / 2)]!,
          max: sortedWindows[sortedWindows.length - 1]!,
          windows: windowCount,
          underGoal: perWindow.filter((r) => r < GOAL_RATE).length,
          series: perWindow,
        }
      : null;
  const measured = (cpu.control ?? 0) + cpu.postgres + (cpu.redis ?? 0) + cpu.bench;
  return {
    bench: 'domains',
    count: n,
    concurrency: options.concurrency,
    logLevel: options.logLevel,
    created,
    failed,
    failures: Object.fromEntries(load.failures),
    elapsedS: round(elapsedMs / 1000),
    ratePerS: round((created * 1000) / elapsedMs),
    windowRatePerS: windowRate,
    latencyMs: distribution(latencies),
    pushLagMs: lag ? { ...lag, over1s: lagOver1s, beforeAnswer } : null,
    drainMs: round(lastPublished === undefined ? 0 : lastPublished - last201),
    published: published.seqs.length,
    missing,
    duplicates,
    outOfOrder,
    foreignMessages: published.foreign,
    redis: { seq: redis.seq, hashEntries: redis.hashEntries, eventsKept: redis.eventsKept },
    cpuMs: {
      control: cpu.control === null ? null : round(cpu.control),
      postgres: round(cpu.postgres),
      redis: cpu.redis === null ? null : round(cpu.redis),
      bench: round(cpu.bench),
      machineBusy: cpu.machine ? round(cpu.machine.busy) : null,
      otherProcesses: cpu.machine ? round(cpu.machine.busy - measured) : null,
      cores: cpu.machine?.cores ?? null,
    },
    controlPeakRssMb: m.controlPeakRssMb,
    goal: {
      ratePerS: GOAL_RATE,
      lagMs: GOAL_LAG_MS,
      met:
        windowRate !== null &&
        windowRate.min >= GOAL_RATE &&
        lagOver1s === 0 &&
        problems.length === 0,
    },
    problems,
    ok: problems.length === 0,
  };
}

function printTable(s: Summary): void {
  const elapsedMs = s.elapsedS * 1000;
  const ms = (d: Distribution | null) => (d ? `${d.p50} / ${d.p99} / ${d.max} ms` : '-');
  const cpu = (used: number | null) =>
    used === null
      ? '-'
      : `${used} ms (${round((100 * used) / elapsedMs)}% of a core, ` +
        `${round((1000 * used) / Math.max(1, s.created))} µs/domain)`;
  const w = s.windowRatePerS;
  const slow = w
    ? w.series.flatMap((rate, second) => (rate < GOAL_RATE ? [`${second}: ${rate}`] : []))
    : [];
  const rows: [string, string][] = [
    ['domains created', `${s.created} of ${s.count} (${s.failed} failed)`],
    ['concurrency', `${s.concurrency} keep-alive connections, control LOG_LEVEL=${s.logLevel}`],
    ['elapsed', `${s.elapsedS} s`],
    ['rate, whole run', `${s.ratePerS} /s`],
    [
      'rate per 1 s window',
      w
        ? `min ${w.min}, median ${w.median}, max ${w.max} /s over ${w.windows} windows`
        : 'run shorter than 1 s',
    ],
    [
      `windows under ${GOAL_RATE}/s`,
      slow.length === 0
        ? '0'
        : `${slow.length} (second ${slow.slice(0, 10).join(', ')}${slow.length > 10 ? ', ...' : ''})`,
    ],
    ['latency p50 / p99 / max', ms(s.latencyMs)],
    [
      'push lag p50 / p99 / max',
      s.pushLagMs
        ? `${ms(s.pushLagMs)} (${s.pushLagMs.over1s} over ${GOAL_LAG_MS} ms, ` +
          `${s.pushLagMs.beforeAnswer} published before their 201 arrived)`
        : '-',
    ],
    ['last publish - last 201', `${s.drainMs} ms`],
    [
      'published',
      `${s.published} (${s.missing} missing, ${s.duplicates} duplicate, ${s.outOfOrder} out of order; ` +
        `${s.foreignMessages} foreign messages ignored)`,
    ],
    [
      'redis',
      `seq ${s.redis.seq}, ${s.redis.hashEntries} hash entries, ${s.redis.eventsKept} events kept`,
    ],
    ['cpu control', cpu(s.cpuMs.control)],
    ['cpu postgres backends', cpu(s.cpuMs.postgres)],
    ['cpu redis-server', cpu(s.cpuMs.redis)],
    ['cpu bench', cpu(s.cpuMs.bench)],
    [
      'cpu whole machine',
      s.cpuMs.cores && s.cpuMs.machineBusy !== null && s.cpuMs.otherProcesses !== null
        ? `${s.cpuMs.cores} cores, ${round((100 * s.cpuMs.machineBusy) / (elapsedMs * s.cpuMs.cores))}% busy; ` +
          `other processes ${round((100 * s.cpuMs.otherProcesses) / elapsedMs)}% of a core`
        : '-',
    ],
    ['control peak rss', `${s.controlPeakRssMb ?? '-'} MB`],
    [
      'goal',
      `>= ${GOAL_RATE}/s in every window, lag <= ${GOAL_LAG_MS} ms: ${s.goal.met ? 'MET' : 'NOT MET'}`,
    ],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  console.log('');
  for (const [key, value] of rows) console.log(`  ${key.padEnd(width)}  ${value}`);
  console.log('');
}

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  const measurement = await measure(options, cleanup, stop);
  const summary = summarise(measurement);
  printTable(summary);
  for (const problem of summary.problems) console.log(`  PROBLEM: ${problem}`);
  for (const sample of measurement.load.failureSamples) console.log(`  failed: ${sample}`);
  if (!summary.ok && measurement.controlTail) {
    console.log(`  control's last output:\n${measurement.controlTail}`);
  }
  console.log(JSON.stringify(summary));
  return summary.ok;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;

runBenchmark({
  usage:
    'usage: bench-domains [--count N] [--concurrency C] [--log-level L] [--drain-timeout S] [--cpu-prof DIR]',
  parse: parseOptions,
  run,
  afterCleanup: (options) => {
    if (options.cpuProfDir) console.log(`bench: control's CPU profile is in ${options.cpuProfDir}`);
  },
});
