// Benchmark of the router core: chat messages from P sessions on a dc1 router to P sessions on
// a dc2 router, through routing and the interlink, each router in a process of its own.
//
//   npm run bench:core -- [--pairs 100] [--window 20] [--duration 10] [--rate 2000]
//                         [--warmup 2] [--drain-timeout 15] [--log-level warn] [--cpu-prof <dir>]
//
// Phases: a warm-up; (a) throughput, each sender keeping `window` messages in flight (sent, not
// yet received) for `duration` seconds; (b) latency at a steady `rate` messages/s over all
// senders. Every message carries its pair's sequence number and send time; the receiving side
// checks order and counts loss and duplicates. It starts a private redis-server on a free
// loopback port, publishes the configuration as control does, and stops all it started on exit,
// error or Ctrl-C. The exit code is 1 when any message was lost, duplicated or out of order.
//
// The receiver's acks travel back over IPC through this process, so a window's round trip
// includes that relay. --cpu-prof DIR profiles both routers (one .cpuprofile per pid).
// BENCH_REDIS_SERVER names the redis-server binary (default: the one on PATH).
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { validateConfig } from '#config';
import {
  CONFIG_CHANNEL,
  CONFIG_LATEST_KEY,
  configRevisionKey,
  type PublishedRevision,
} from '#redis-keys';
import {
  BENCH_DOMAIN,
  epochMs,
  type AckMessage,
  type BenchCommand,
  type CommandEnvelope,
  type LatencySummary,
  type NodeMessage,
  type PhaseMode,
  type ReceiverResult,
  type SenderResult,
  type UsageSnapshot,
} from './bench-core-protocol';
import {
  Cleanup,
  freePort,
  messageOf,
  procCpuMs,
  runBenchmark,
  startRedis,
  track,
  UsageError,
  type RedisServer,
} from './bench-support';

const NODE_SCRIPT = path.join(__dirname, 'bench-core-node.js');
const REPO_ROOT = path.resolve(__dirname, '../..');
const DC1 = 'dc1.example.com';
const DC2 = 'dc2.example.com';
const BOOT_TIMEOUT_MS = 60_000;

interface Options {
  readonly pairs: number;
  readonly window: number;
  readonly durationS: number;
  readonly rate: number;
  readonly warmupS: number;
  readonly drainTimeoutS: number;
  readonly logLevel: string;
  readonly cpuProfDir: string | null;
}

const USAGE =
  'usage: bench-core [--pairs 100] [--window 20] [--duration 10] [--rate 2000] [--warmup 2]\n' +
  '                  [--drain-timeout 15] [--log-level warn] [--cpu-prof DIR]';

function parseOptions(argv: readonly string[]): Options {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument "${arg}"`);
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
    values.set(match[1]!, value);
  }
  const take = (name: string) => {
    const raw = values.get(name);
    values.delete(name);
    return raw;
  };
  const number = (name: string, fallback: number, min: number, integer = true): number => {
    const raw = take(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
    return n;
  };
  const cpuProf = take('cpu-prof');
  const options: Options = {
    pairs: number('pairs', 100, 1),
    window: number('window', 20, 1),
    durationS: number('duration', 10, 0.1, false),
    rate: number('rate', 2000, 1),
    warmupS: number('warmup', 2, 0, false),
    drainTimeoutS: number('drain-timeout', 15, 1),
    logLevel: take('log-level') ?? 'warn',
    cpuProfDir: cpuProf === undefined ? null : path.resolve(cpuProf),
  };
  if (values.size > 0) throw new UsageError(`unknown option --${[...values.keys()][0]}`);
  return options;
}

/** Revision 1, written and announced the way control does it. */
async function publishConfiguration(redisUrl: string): Promise<void> {
  const result = validateConfig({
    globalHost: BENCH_DOMAIN,
    datacenters: [{ localHost: DC1 }, { localHost: DC2 }],
    connections: { tls: { enabled: false } },
  });
  if (!result.ok) throw new Error(`bench configuration invalid: ${JSON.stringify(result.errors)}`);
  const revision: PublishedRevision = {
    revision: 1,
    hash: 'bench-core-1',
    createdAt: new Date().toISOString(),
    config: result.config,
  };
  const json = JSON.stringify(revision);
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await client.set(configRevisionKey(1), json);
    await client.set(CONFIG_LATEST_KEY, json);
    await client.publish(CONFIG_CHANNEL, '1');
  } finally {
    client.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Router processes.

class RouterProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly lines: string[] = [];
  private exitedWith: string | null = null;
  /** Log lines at warn level or above, and the first of them. */
  warnings = 0;
  readonly warningSamples: string[] = [];
  onAck: (message: AckMessage) => void = () => undefined;
  httpPort = 0;

  /** Rejects when the process exits: race it against a long wait on the other router. */
  readonly gone: Promise<never>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly exited: Promise<string>,
    private readonly ready: Promise<ReadyOrFailure>,
  ) {
    this.gone = exited.then((how) => {
      throw new Error(`router ${name} exited (${how})\n${this.tail()}`);
    });
    this.gone.catch(() => undefined);
    void exited.then((how) => {
      this.exitedWith = how;
      for (const { reject } of this.pending.values()) {
        reject(new Error(`router ${name} exited (${how})\n${this.tail()}`));
      }
      this.pending.clear();
    });
  }

  static start(name: string, env: Record<string, string>, execArgv: string[]): RouterProcess {
    const child = fork(NODE_SCRIPT, [], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C reaches the orchestrator only, which stops it in order.
      detached: true,
    });
    const exited = track(child);
    let settle: (value: ReadyOrFailure) => void = () => undefined;
    const ready = new Promise<ReadyOrFailure>((resolve) => (settle = resolve));
    void exited.then((how) => settle({ failed: `exited (${how})` }));
    const router = new RouterProcess(name, child, exited, ready);
    child.on('message', (raw: unknown) => {
      const message = raw as NodeMessage;
      if (message.t === 'ack') router.onAck(message);
      else if (message.t === 'reply') router.settle(message.id, message);
      else if (message.t === 'ready') settle({ httpPort: message.httpPort });
      else if (message.t === 'boot-failed') settle({ failed: message.error });
    });
    child.stdout!.on('data', (chunk: Buffer) => router.keep(chunk));
    child.stderr!.on('data', (chunk: Buffer) => router.keep(chunk));
    return router;
  }

  async waitReady(): Promise<void> {
    const outcome = await withTimeout(this.ready, BOOT_TIMEOUT_MS, `router ${this.name} boot`);
    if ('failed' in outcome) {
      throw new Error(`router ${this.name} did not start: ${outcome.failed}\n${this.tail()}`);
    }
    this.httpPort = outcome.httpPort;
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.exitedWith) throw new Error(`router ${this.name} exited (${this.exitedWith})`);
      try {
        const response = await fetch(`http://127.0.0.1:${this.httpPort}/health/ready`, {
          signal: AbortSignal.timeout(2000),
        });
        if (response.status === 200) return;
        last = `HTTP ${response.status}: ${await response.text()}`;
      } catch (error) {
        last = messageOf(error);
      }
      await sleep(100);
    }
    throw new Error(`router ${this.name} not ready after ${BOOT_TIMEOUT_MS} ms (${last})`);
  }

  request<T>(command: BenchCommand): Promise<T> {
    if (this.exitedWith) {
      return Promise.reject(new Error(`router ${this.name} exited (${this.exitedWith})`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const envelope: CommandEnvelope = { id, command };
      this.child.send(envelope);
    });
  }

  relay(message: AckMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  tail(): string {
    return this.lines.join('\n');
  }

  /** Asks the router to close (which lets --cpu-prof write its profile), then insists. */
  async stop(): Promise<void> {
    if (this.exitedWith) return;
    if (this.child.connected) {
      try {
        await withTimeout(this.request({ cmd: 'stop' }), 2_000, 'stop');
      } catch {
        // It is closing, or past answering: the exit below settles it.
      }
    }
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 12_000);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 17_000);
    await this.exited;
    clearTimeout(timer);
    clearTimeout(killer);
  }

  private settle(id: number, reply: Extract<NodeMessage, { t: 'reply' }>): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`router ${this.name}: ${reply.error}`));
  }

  private keep(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      this.lines.push(line);
      const level = /"level":(\d+)/.exec(line);
      if (!level || Number(level[1]) >= 40) {
        this.warnings++;
        if (this.warningSamples.length < 5) this.warningSamples.push(line.slice(0, 400));
      }
    }
    if (this.lines.length > 40) this.lines.splice(0, this.lines.length - 40);
  }
}

type ReadyOrFailure = { httpPort: number } | { failed: string };

async function startRouters(
  cleanup: Cleanup,
  options: Options,
  redisUrl: string,
): Promise<[RouterProcess, RouterProcess]> {
  const execArgv = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const routers: RouterProcess[] = [];
  // The sending side first, so that what it still has in flight reaches a receiver that is up.
  cleanup.add('routers', async () => {
    for (const router of routers) await router.stop();
  });
  for (const localHost of [DC1, DC2]) {
    const name = localHost.split('.')[0]!;
    const env = {
      MERIDIAN_LOCAL_HOST: localHost,
      MERIDIAN_NODE: `bench-${name}`,
      REDIS_URL: redisUrl,
      HTTP_PORT: String(await freePort()),
      C2S_PORT: String(await freePort()),
      COMPONENT_PORT: String(await freePort()),
      INTERLINK_LISTEN: `127.0.0.1:${await freePort()}`,
      LOG_LEVEL: options.logLevel,
    };
    routers.push(RouterProcess.start(name, env, execArgv));
  }
  await Promise.all(routers.map((router) => router.waitReady()));
  return [routers[0]!, routers[1]!];
}

// ---------------------------------------------------------------------------------------------
// Phases.

interface PhaseSpec {
  readonly label: string;
  readonly mode: PhaseMode;
  readonly durationMs: number;
}

interface ProcessUse {
  readonly cpuPercent: number;
  /** CPU time over the phase divided by the messages delivered in it. */
  readonly cpuUsPerMessage: number;
  readonly eventLoopPercent: number;
  readonly rssMb: number;
  readonly maxRssMb: number;
  readonly heapMb: number;
  /** Router counters over the phase; the bounce queue as it was at the end. */
  readonly metrics: Record<string, number>;
}

interface PhaseResult {
  readonly label: string;
  readonly mode: PhaseMode;
  readonly sent: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly misrouted: number;
  readonly malformed: number;
  readonly unexpectedAtSenders: number;
  readonly unexpectedSamples: string[];
  readonly drained: boolean;
  /** From the first send to the last send, and to the last receipt (s). */
  readonly sendingS: number;
  readonly elapsedS: number;
  /** Delivered messages over `elapsedS`. */
  readonly ratePerS: number;
  /** Receipts per whole second of the sending time. */
  readonly perSecond: {
    readonly min: number;
    readonly median: number;
    readonly max: number;
    readonly series: number[];
  };
  readonly latencyMs: LatencySummary | null;
  readonly behindScheduleMaxMs: number;
  readonly dc1: ProcessUse;
  readonly dc2: ProcessUse;
  readonly redisCpuPercent: number | null;
  readonly orchestratorCpuPercent: number;
  /** Busy share of all the machine's cores (everything on it, the kernel included). */
  readonly machineBusyPercent: number | null;
  /** CPU used by everything else on the machine, % of one core: contention skews the figures. */
  readonly otherCpuPercent: number | null;
}

function processUse(before: UsageSnapshot, after: UsageSnapshot, messages: number): ProcessUse {
  const wallMs = after.at - before.at;
  const cpuMs =
    (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs) / 1000;
  const active = after.eluActiveMs - before.eluActiveMs;
  const idle = after.eluIdleMs - before.eluIdleMs;
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.metrics)) {
    metrics[name] = name.endsWith('_size') ? value : value - (before.metrics[name] ?? 0);
  }
  metrics.bounced_at_end = after.bounced;
  return {
    cpuPercent: round((100 * cpuMs) / wallMs),
    cpuUsPerMessage: round((1000 * cpuMs) / Math.max(1, messages)),
    eventLoopPercent: round((100 * active) / Math.max(1e-9, active + idle)),
    rssMb: mb(after.rssBytes),
    maxRssMb: mb(after.maxRssBytes),
    heapMb: mb(after.heapUsedBytes),
    metrics,
  };
}

async function runPhase(
  phase: number,
  spec: PhaseSpec,
  options: Options,
  [sender, receiver]: [RouterProcess, RouterProcess],
  redis: RedisServer,
  stop: AbortSignal,
): Promise<PhaseResult> {
  const ticks = clockTicks();
  const usage = () =>
    Promise.all([
      sender.request<UsageSnapshot>({ cmd: 'usage' }),
      receiver.request<UsageSnapshot>({ cmd: 'usage' }),
    ]);
  const startAt = epochMs() + 100;
  // Acks pace window mode, so they go every millisecond; rate mode needs them only to drain.
  const ackEveryMs = spec.mode === 'window' ? 1 : 50;
  await receiver.request({ cmd: 'prepare', phase, startAt, ackEveryMs });
  const [senderBefore, receiverBefore] = await usage();
  const redisBefore = procCpuMs(redis.pid, ticks);
  const machineBefore = machineCpuMs(ticks);
  const selfBefore = process.cpuUsage();
  const wallBefore = epochMs();
  const sent = await Promise.race([
    sender.request<SenderResult>({
      cmd: 'run',
      phase,
      mode: spec.mode,
      window: options.window,
      rate: options.rate,
      startAt,
      durationMs: spec.durationMs,
      drainTimeoutMs: options.drainTimeoutS * 1000,
    }),
    receiver.gone,
  ]);
  if (stop.aborted) throw new Error('interrupted');
  const received = await receiver.request<ReceiverResult>({ cmd: 'report', phase });
  const wallMs = epochMs() - wallBefore;
  const self = process.cpuUsage(selfBefore);
  const redisAfter = procCpuMs(redis.pid, ticks);
  const machineAfter = machineCpuMs(ticks);
  const [senderAfter, receiverAfter] = await usage();

  let lost = 0;
  let totalSent = 0;
  let delivered = 0;
  sent.sent.forEach((count, pair) => {
    totalSent += count;
    delivered += received.unique[pair] ?? 0;
    lost += Math.max(0, count - (received.unique[pair] ?? 0));
  });
  const dc1 = processUse(senderBefore, senderAfter, delivered);
  const dc2 = processUse(receiverBefore, receiverAfter, delivered);
  const redisMs = redisBefore !== null && redisAfter !== null ? redisAfter - redisBefore : null;
  const selfMs = (self.user + self.system) / 1000;
  const machine =
    machineBefore && machineAfter
      ? {
          busy: machineAfter.busy - machineBefore.busy,
          total: machineAfter.total - machineBefore.total,
        }
      : null;
  const knownMs = ((dc1.cpuPercent + dc2.cpuPercent) * wallMs) / 100 + (redisMs ?? 0) + selfMs;
  const sendingMs = sent.stoppedAt - sent.startedAt;
  const elapsedMs = Math.max(received.lastAt, sent.stoppedAt) - sent.startedAt;
  // Whole seconds of the sending time only: the last, partial one would drag the minimum down.
  const windows = received.perSecond.slice(0, Math.max(1, Math.floor(sendingMs / 1000)));
  const sorted = [...windows].sort((a, b) => a - b);
  return {
    label: spec.label,
    mode: spec.mode,
    sent: totalSent,
    delivered,
    lost,
    duplicates: received.duplicates,
    outOfOrder: received.outOfOrder,
    misrouted: received.misrouted,
    malformed: received.malformed,
    unexpectedAtSenders: sent.unexpected,
    unexpectedSamples: sent.unexpectedSamples,
    drained: sent.drained,
    sendingS: round(sendingMs / 1000),
    elapsedS: round(elapsedMs / 1000),
    ratePerS: Math.round((delivered * 1000) / Math.max(1, elapsedMs)),
    perSecond: {
      min: sorted[0] ?? 0,
      median: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
      max: sorted[sorted.length - 1] ?? 0,
      series: received.perSecond,
    },
    latencyMs: received.latencyMs && roundLatency(received.latencyMs),
    behindScheduleMaxMs: round(sent.behindMaxMs),
    dc1,
    dc2,
    redisCpuPercent: redisMs === null ? null : round((100 * redisMs) / wallMs),
    orchestratorCpuPercent: round((100 * selfMs) / wallMs),
    machineBusyPercent: machine && round((100 * machine.busy) / Math.max(1, machine.total)),
    otherCpuPercent: machine && Math.max(0, round((100 * (machine.busy - knownMs)) / wallMs)),
  };
}

function phaseProblems(result: PhaseResult): string[] {
  const problems: string[] = [];
  const expect = (good: boolean, problem: string) => {
    if (!good) problems.push(`${result.label}: ${problem}`);
  };
  expect(result.lost === 0, `${result.lost} messages lost`);
  expect(result.duplicates === 0, `${result.duplicates} duplicates`);
  expect(result.outOfOrder === 0, `${result.outOfOrder} out of order`);
  expect(result.misrouted === 0, `${result.misrouted} misrouted or from another phase`);
  expect(result.malformed === 0, `${result.malformed} malformed`);
  expect(
    result.unexpectedAtSenders === 0,
    `${result.unexpectedAtSenders} stanzas came back to the senders`,
  );
  expect(result.drained, 'not every message arrived before the drain timeout');
  for (const [name, use] of [
    ['dc1', result.dc1],
    ['dc2', result.dc2],
  ] as const) {
    const count = (metric: string) => use.metrics[metric] ?? 0;
    expect(
      count('route_errors') === 0,
      `Router.route() failed ${count('route_errors')} times on ${name}`,
    );
    // On dc1 these are the senders' (checked above); on dc2, stanzas outside any phase.
    expect(
      name === 'dc1' || count('unexpected_stanzas') === 0,
      `${count('unexpected_stanzas')} stanzas reached the receivers outside a phase`,
    );
    expect(
      count('meridian_gd_bounce_failures_total') === 0,
      `${count('meridian_gd_bounce_failures_total')} bounce failures on ${name}`,
    );
  }
  expect(result.sent > 0, 'nothing was sent');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Report.

interface Summary {
  readonly bench: 'core';
  readonly pairs: number;
  readonly window: number;
  readonly durationS: number;
  readonly rate: number;
  readonly cores: number;
  readonly node: string;
  readonly warmup: PhaseResult | null;
  readonly throughput: PhaseResult;
  readonly steady: PhaseResult;
  readonly routerWarnings: { readonly dc1: number; readonly dc2: number };
  readonly problems: string[];
  readonly ok: boolean;
}

function printTable(s: Summary): void {
  const a = s.throughput;
  const b = s.steady;
  const lat = (r: PhaseResult, key: keyof LatencySummary) =>
    r.latencyMs ? `${r.latencyMs[key]} ms` : '-';
  const use = (u: ProcessUse) =>
    `${u.cpuPercent}% cpu (${u.cpuUsPerMessage} µs/msg), loop ${u.eventLoopPercent}% busy, ` +
    `rss ${u.rssMb} MB`;
  const rows: [string, string, string][] = [
    ['', `(a) throughput, window ${s.window}`, `(b) steady ${s.rate}/s`],
    ['sending time', `${a.sendingS} s`, `${b.sendingS} s`],
    ['delivered / sent', `${a.delivered} / ${a.sent}`, `${b.delivered} / ${b.sent}`],
    ['rate', `${a.ratePerS} msg/s`, `${b.ratePerS} msg/s`],
    [
      'per second min/med/max',
      `${a.perSecond.min} / ${a.perSecond.median} / ${a.perSecond.max}`,
      `${b.perSecond.min} / ${b.perSecond.median} / ${b.perSecond.max}`,
    ],
    ['latency p50', lat(a, 'p50'), lat(b, 'p50')],
    ['latency p90', lat(a, 'p90'), lat(b, 'p90')],
    ['latency p99', lat(a, 'p99'), lat(b, 'p99')],
    ['latency p99.9', lat(a, 'p999'), lat(b, 'p999')],
    ['latency max', lat(a, 'max'), lat(b, 'max')],
    [
      'lost / dup / out of order',
      `${a.lost} / ${a.duplicates} / ${a.outOfOrder}`,
      `${b.lost} / ${b.duplicates} / ${b.outOfOrder}`,
    ],
    ['sender behind schedule', '-', `max ${b.behindScheduleMaxMs} ms`],
    ['dc1 router (sends)', use(a.dc1), use(b.dc1)],
    ['dc2 router (receives)', use(a.dc2), use(b.dc2)],
    [
      'redis-server cpu',
      a.redisCpuPercent === null ? '-' : `${a.redisCpuPercent}%`,
      b.redisCpuPercent === null ? '-' : `${b.redisCpuPercent}%`,
    ],
    ['orchestrator cpu', `${a.orchestratorCpuPercent}%`, `${b.orchestratorCpuPercent}%`],
    [
      `machine busy (${s.cores} cores)`,
      a.machineBusyPercent === null ? '-' : `${a.machineBusyPercent}%`,
      b.machineBusyPercent === null ? '-' : `${b.machineBusyPercent}%`,
    ],
    [
      'other processes cpu',
      a.otherCpuPercent === null ? '-' : `${a.otherCpuPercent}%`,
      b.otherCpuPercent === null ? '-' : `${b.otherCpuPercent}%`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('');
  console.log(
    `  Meridian router core: ${s.pairs} pairs ${DC1} -> ${DC2}, one process per router, ` +
      `${s.cores} cores, node ${s.node}`,
  );
  console.log('');
  for (const [k, v1, v2] of rows) console.log(`  ${k.padEnd(w0)}  ${v1.padEnd(w1)}  ${v2}`);
  console.log('');
  console.log(
    "  CPU% is of one core over the phase (sending and draining); µs/msg counts the bench's" +
      ' own sessions too.\n  Latency: from the send time stamped before Router.route() on dc1' +
      ' to delivery to the session on dc2.\n  Other processes: the rest of the machine; when' +
      ' it is high, the routers competed for the cores.',
  );
  if (s.warmup) {
    const w = s.warmup;
    console.log(
      `  warm-up: ${w.delivered}/${w.sent} delivered in ${w.elapsedS} s, ` +
        `${w.lost} lost, ${w.duplicates} duplicates, ${w.outOfOrder} out of order`,
    );
  }
  console.log('');
}

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  const redis = await startRedis(cleanup);
  await publishConfiguration(redis.url);
  const routers = await startRouters(cleanup, options, redis.url);
  const [dc1, dc2] = routers;
  dc2.onAck = (message) => dc1.relay(message);
  console.log(
    `bench: redis-server pid ${redis.pid} at ${redis.url}; routers dc1 pid ${dc1.child.pid}, ` +
      `dc2 pid ${dc2.child.pid}; logging in ${options.pairs} pairs`,
  );
  await dc1.request({ cmd: 'login', role: 'sender', pairs: options.pairs });
  await dc2.request({ cmd: 'login', role: 'receiver', pairs: options.pairs });

  const durationMs = options.durationS * 1000;
  let warmup: PhaseResult | null = null;
  if (options.warmupS > 0) {
    console.log(`bench: warm-up, ${options.warmupS} s`);
    warmup = await runPhase(
      1,
      { label: 'warm-up', mode: 'window', durationMs: options.warmupS * 1000 },
      options,
      routers,
      redis,
      stop,
    );
  }
  console.log(`bench: (a) throughput, window ${options.window} per sender, ${options.durationS} s`);
  const throughput = await runPhase(
    2,
    { label: 'throughput', mode: 'window', durationMs },
    options,
    routers,
    redis,
    stop,
  );
  console.log(`bench: (b) steady ${options.rate} msg/s, ${options.durationS} s`);
  const steady = await runPhase(
    3,
    { label: 'steady', mode: 'rate', durationMs },
    options,
    routers,
    redis,
    stop,
  );

  const problems = [warmup, throughput, steady].flatMap((r) => (r ? phaseProblems(r) : []));
  const summary: Summary = {
    bench: 'core',
    pairs: options.pairs,
    window: options.window,
    durationS: options.durationS,
    rate: options.rate,
    cores: availableParallelism(),
    node: process.version,
    warmup,
    throughput,
    steady,
    routerWarnings: { dc1: dc1.warnings, dc2: dc2.warnings },
    problems,
    ok: problems.length === 0,
  };
  printTable(summary);
  for (const problem of problems) console.log(`  PROBLEM: ${problem}`);
  for (const r of [warmup, throughput, steady]) {
    for (const sample of r?.unexpectedSamples.slice(0, 3) ?? []) {
      console.log(`  came back to a sender: ${sample}`);
    }
  }
  for (const router of routers) {
    if (router.warnings === 0) continue;
    console.log(`  router ${router.name} logged ${router.warnings} warnings or errors, first:`);
    for (const line of router.warningSamples) console.log(`    ${line}`);
  }
  console.log(JSON.stringify(summary));
  return summary.ok;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/** All CPUs' busy and total time in ms since boot (Linux /proc/stat); null elsewhere. */
function machineCpuMs(ticksPerSecond: number): { busy: number; total: number } | null {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    const toMs = (t: number) => (t * 1000) / ticksPerSecond;
    return { busy: toMs(busy), total: toMs(busy + idle! + iowait!) };
  } catch {
    return null;
  }
}

let ticksCache: number | null = null;
function clockTicks(): number {
  if (ticksCache !== null) return ticksCache;
  try {
    ticksCache = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    ticksCache = 100;
  }
  return ticksCache;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function roundLatency(l: LatencySummary): LatencySummary {
  const r = (n: number) => Math.round(n * 1000) / 1000;
  return {
    count: l.count,
    mean: r(l.mean),
    min: r(l.min),
    p50: r(l.p50),
    p90: r(l.p90),
    p99: r(l.p99),
    p999: r(l.p999),
    max: r(l.max),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

runBenchmark({
  usage: USAGE,
  parse: parseOptions,
  run,
  afterCleanup: (options) => {
    if (options.cpuProfDir)
      console.log(`bench: the routers' CPU profiles are in ${options.cpuProfDir}`);
  },
});
