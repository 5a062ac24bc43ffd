// `npm run bench`: Meridian under chat load, measured from outside by a raw XMPP client over
// c2s TCP, the way any XMPP server can be measured (bench:peer runs the same client against
// ejabberd). Starts the local installation (control, dc1-a and dc1-b for dc1, dc2-a for dc2)
// on free ports with its own database and redis-server, or attaches to the running one.
//
//   npm run bench -- [--mode local,cross-node,cross-dc] [--rate 0,2000] [--pairs 100]
//                    [--window 20] [--duration 10] [--warmup 2] [--drain-timeout 15]
//                    [--idle-sessions 10000] [--login-concurrency 200] [--domains 0]
//                    [--attach] [--cpu-prof DIR] [--node-options '--max-semi-space-size=32']
//
// Scenarios: local (sender and receiver on dc1-a), cross-node (dc1-a to dc1-b, one
// datacenter), cross-dc (dc1-a to dc2-a, over the interlink); local-2-nodes and
// cross-dc-2-nodes spread the pairs over both nodes of dc1 (what a second node adds). --rate 0 is the maximum (each
// sender keeps --window messages in flight); --rate N a steady N msg/s over all senders.
// --idle-sessions N logs N sessions into dc1-a first: logins/s and resident memory per idle
// session. --domains N creates N dynamic domains through control before the traffic.
// Prints a table per part and one JSON line with every figure; exits 1 when a message was
// lost, duplicated, reordered or answered with an error.
import path from 'node:path';
import { Flags, runBenchmark, UsageError, type Cleanup } from './bench-support';
import { loadDomains } from './bench/domains';
import { meridianUnderTest } from './bench/meridian';
import { idleTable, problemsOf, trafficTable } from './bench/report';
import { measureIdle, runTraffic, type IdleResult, type TrafficRun } from './bench/suite';

const SCENARIOS: Record<string, { from: string[]; to: string[] }> = {
  local: { from: ['dc1-a'], to: ['dc1-a'] },
  'cross-node': { from: ['dc1-a'], to: ['dc1-b'] },
  'cross-dc': { from: ['dc1-a'], to: ['dc2-a'] },
  // Both nodes of dc1, each with half of the pairs chatting locally: what a second node adds.
  'local-2-nodes': { from: ['dc1-a', 'dc1-b'], to: ['dc1-a', 'dc1-b'] },
  // Senders on both nodes of dc1, receivers on dc2-a.
  'cross-dc-2-nodes': { from: ['dc1-a', 'dc1-b'], to: ['dc2-a'] },
};
type Scenario = string;

interface Options {
  readonly modes: Scenario[];
  readonly rates: number[];
  readonly pairs: number;
  readonly window: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly drainTimeoutS: number;
  readonly idleSessions: number;
  readonly loginConcurrency: number;
  readonly domains: number;
  readonly attach: boolean;
  readonly cpuProfDir: string | null;
  /** NODE_OPTIONS for the installation's processes (V8 flags to compare, say). */
  readonly nodeOptions: string;
  /** Keep the installation's logs (they are kept anyway after a failure). */
  readonly keepLogs: boolean;
  /** Where each process writes its garbage collection counts and pauses when it exits. */
  readonly gcStatsDir: string | null;
}

const USAGE =
  'usage: npm run bench -- [--mode local,cross-node,cross-dc] [--rate 0,2000] [--pairs 100]\n' +
  '         [--window 20] [--duration 10] [--warmup 2] [--drain-timeout 15]\n' +
  '         [--idle-sessions 10000] [--login-concurrency 200] [--domains 0] [--attach]\n' +
  '         [--cpu-prof DIR] [--gc-stats DIR] [--node-options FLAGS] [--keep-logs]';

function parse(argv: string[]): Options {
  const flags = new Flags(argv, ['attach', 'keep-logs']);
  const cpuProf = flags.text('cpu-prof');
  const gcStats = flags.text('gc-stats');
  const options: Options = {
    modes: flags.choices('mode', Object.keys(SCENARIOS), ['local', 'cross-node', 'cross-dc']),
    rates: flags.numbers('rate', [0, 2000], 0),
    pairs: flags.number('pairs', 100, 1),
    window: flags.number('window', 20, 1),
    durationS: flags.number('duration', 10, 1, false),
    warmupS: flags.number('warmup', 2, 0, false),
    drainTimeoutS: flags.number('drain-timeout', 15, 1),
    idleSessions: flags.number('idle-sessions', 10_000, 0),
    loginConcurrency: flags.number('login-concurrency', 200, 1),
    domains: flags.number('domains', 0, 0),
    attach: flags.flag('attach'),
    cpuProfDir: cpuProf === undefined ? null : path.resolve(cpuProf),
    nodeOptions: flags.text('node-options') ?? '',
    keepLogs: flags.flag('keep-logs'),
    gcStatsDir: gcStats === undefined ? null : path.resolve(gcStats),
  };
  flags.done();
  if (options.attach && (options.cpuProfDir || options.gcStatsDir || options.nodeOptions)) {
    throw new UsageError(
      '--cpu-prof, --gc-stats and --node-options start the installation; not with --attach',
    );
  }
  return options;
}

const log = (line: string) => console.log(`bench: ${line}`);

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  let failed = true;
  try {
    const ok = await measure(options, cleanup, stop, () => failed || options.keepLogs);
    failed = !ok;
    return ok;
  } catch (error) {
    failed = true;
    throw error;
  }
}

async function measure(
  options: Options,
  cleanup: Cleanup,
  stop: AbortSignal,
  keepLogs: () => boolean,
): Promise<boolean> {
  const preload = (name: string) => `--require ${path.join(__dirname, 'bench', name)}`;
  const env: Record<string, string> = {
    NODE_OPTIONS: [
      options.cpuProfDir ? preload('cpu-profile-preload.js') : '',
      options.gcStatsDir ? preload('gc-preload.js') : '',
      options.nodeOptions,
    ]
      .join(' ')
      .trim(),
    ...(options.cpuProfDir ? { BENCH_CPU_PROF_DIR: options.cpuProfDir } : {}),
    ...(options.gcStatsDir ? { BENCH_GC_STATS_DIR: options.gcStatsDir } : {}),
  };
  const meridian = await meridianUnderTest({ attach: options.attach, env, log, keepLogs }, cleanup);
  const server = {
    name: 'meridian',
    processes: meridian.processes,
    password: meridian.password,
  };
  const domains =
    options.domains > 0 ? await loadDomains(meridian, options.domains, stop, log) : null;

  const idle: IdleResult[] = [];
  if (options.idleSessions > 0) {
    const node = meridian.processes.find((p) => p.name === 'dc1-a')!;
    idle.push(
      await measureIdle(
        server,
        node,
        meridian.target('dc1-a'),
        { count: options.idleSessions, concurrency: options.loginConcurrency, settleMs: 2_000 },
        stop,
        log,
      ),
    );
  }

  const runs: TrafficRun[] = [];
  for (const mode of options.modes) {
    if (stop.aborted) break;
    const { from, to } = SCENARIOS[mode];
    runs.push(
      ...(await runTraffic(
        server,
        { name: mode, from: from.map(meridian.target), to: to.map(meridian.target) },
        { ...options, rates: options.rates },
        stop,
        log,
      )),
    );
  }

  console.log('');
  if (idle.length > 0) console.log(`${idleTable(idle)}\n`);
  if (runs.length > 0) console.log(`${trafficTable(runs)}\n`);
  if (domains) {
    const live = domains.liveOnEveryRouterMs;
    console.log(
      `dynamic domains: ${domains.count} created at ${domains.perSecond}/s (1-s windows min ` +
        `${domains.perSecondWindows?.min ?? '-'}), live on every router p50 ${live?.p50.toFixed(0)} ms, ` +
        `p99 ${live?.p99.toFixed(0)} ms, max ${live?.max.toFixed(0)} ms; ${domains.notLive} of ` +
        `${domains.sampled} sampled not live within 10 s\n`,
    );
  }
  const problems = problemsOf(runs);
  for (const problem of problems) console.log(`PROBLEM: ${problem}`);
  console.log(JSON.stringify({ bench: 'meridian', options, domains, idle, runs }));
  return problems.length === 0;
}

runBenchmark({
  usage: USAGE,
  parse,
  run,
  afterCleanup: (options) => {
    if (options.cpuProfDir) console.log(`bench: CPU profiles are in ${options.cpuProfDir}`);
  },
});
