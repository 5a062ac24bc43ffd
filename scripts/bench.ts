// `npm run bench`: Meridian under chat load, measured from outside by a raw XMPP client over
// c2s TCP, the way any XMPP server can be measured (bench:peer runs the same client against
// ejabberd). Starts the local installation (control, dc1-a and dc1-b for dc1, dc2-a for dc2)
// on free ports with its own database and redis-server, or attaches to the running one.
//
//   npm run bench -- [--mode local,cross-node,cross-dc] [--rate 0,2000] [--pairs 100]
//                    [--window 20] [--duration 10] [--warmup 2] [--drain-timeout 15]
//                    [--idle-sessions 10000] [--login-concurrency 200] [--domains 0]
//                    [--attach] [--cpu-prof DIR]
//
// Scenarios: local (sender and receiver on dc1-a), cross-node (dc1-a to dc1-b, one
// datacenter), cross-dc (dc1-a to dc2-a, over the interlink). --rate 0 is the maximum (each
// sender keeps --window messages in flight); --rate N a steady N msg/s over all senders.
// --idle-sessions N logs N sessions into dc1-a first: logins/s and resident memory per idle
// session. --domains N creates N dynamic domains through control before the traffic.
// Prints a table per part and one JSON line with every figure; exits 1 when a message was
// lost, duplicated, reordered or answered with an error.
import path from 'node:path';
import { Flags, runBenchmark, UsageError, type Cleanup } from './bench-support';
import { meridianUnderTest, waitForRollout, type MeridianUnderTest } from './bench/meridian';
import { idleTable, problemsOf, trafficTable } from './bench/report';
import { measureIdle, runTraffic, type IdleResult, type TrafficRun } from './bench/suite';

const SCENARIOS = {
  local: { from: 'dc1-a', to: 'dc1-a' },
  'cross-node': { from: 'dc1-a', to: 'dc1-b' },
  'cross-dc': { from: 'dc1-a', to: 'dc2-a' },
} as const;
type Scenario = keyof typeof SCENARIOS;

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
}

const USAGE =
  'usage: npm run bench -- [--mode local,cross-node,cross-dc] [--rate 0,2000] [--pairs 100]\n' +
  '         [--window 20] [--duration 10] [--warmup 2] [--drain-timeout 15]\n' +
  '         [--idle-sessions 10000] [--login-concurrency 200] [--domains 0] [--attach]\n' +
  '         [--cpu-prof DIR]';

function parse(argv: string[]): Options {
  const flags = new Flags(argv, ['attach']);
  const cpuProf = flags.text('cpu-prof');
  const options: Options = {
    modes: flags.choices('mode', Object.keys(SCENARIOS) as Scenario[], [
      'local',
      'cross-node',
      'cross-dc',
    ]),
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
  };
  flags.done();
  if (options.attach && options.cpuProfDir) {
    throw new UsageError('--cpu-prof starts the routers itself; it cannot be used with --attach');
  }
  return options;
}

const log = (line: string) => console.log(`bench: ${line}`);

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  const env: Record<string, string> = options.cpuProfDir
    ? {
        NODE_OPTIONS: `--require ${path.join(__dirname, 'bench/cpu-profile-preload.js')}`,
        BENCH_CPU_PROF_DIR: options.cpuProfDir,
      }
    : {};
  const meridian = await meridianUnderTest({ attach: options.attach, env, log }, cleanup);
  const server = {
    name: 'meridian',
    processes: meridian.processes,
    password: meridian.password,
  };
  const domains = options.domains > 0 ? await loadDomains(meridian, options.domains, stop) : null;

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
        { name: mode, from: meridian.target(from), to: meridian.target(to) },
        { ...options, rates: options.rates },
        stop,
        log,
      )),
    );
  }

  console.log('');
  if (idle.length > 0) console.log(`${idleTable(idle)}\n`);
  if (runs.length > 0) console.log(`${trafficTable(runs)}\n`);
  if (domains) console.log(`dynamic domains loaded: ${domains.count} (${domains.perSecond}/s)\n`);
  const problems = problemsOf(runs);
  for (const problem of problems) console.log(`PROBLEM: ${problem}`);
  console.log(JSON.stringify({ bench: 'meridian', options, domains, idle, runs }));
  return problems.length === 0;
}

/** Creates `count` dynamic domains through control and waits until every router has them. */
async function loadDomains(
  meridian: MeridianUnderTest,
  count: number,
  stop: AbortSignal,
): Promise<{ count: number; perSecond: number }> {
  log(`creating ${count} dynamic domains through control`);
  const started = performance.now();
  let next = 0;
  const body = JSON.stringify({ hostType: 'default' });
  const worker = async () => {
    while (next < count && !stop.aborted) {
      const domain = `d${next++}.bench.test`;
      const answer = await meridian.api(`/v1/domains/${domain}`, { method: 'PUT', body });
      if (!answer.ok)
        throw new Error(`PUT /v1/domains/${domain}: ${answer.status} ${await answer.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await waitForRollout(meridian);
  // Every router has applied the events once they all report the same, unchanging seq.
  let last = -1;
  for (;;) {
    const rollout = (await (await meridian.api('/v1/routers')).json()) as {
      routers: { domainSeq: number }[];
    };
    const seqs = rollout.routers.map((r) => r.domainSeq);
    const same = seqs.every((s) => s === seqs[0]);
    if (same && seqs[0] === last && last >= count) break;
    last = same ? seqs[0]! : -1;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const perSecond = Math.round((count * 1000) / (performance.now() - started));
  log(`${count} domains on every router (${perSecond}/s including the wait)`);
  return { count, perSecond };
}

runBenchmark({
  usage: USAGE,
  parse,
  run,
  afterCleanup: (options) => {
    if (options.cpuProfDir) console.log(`bench: CPU profiles are in ${options.cpuProfDir}`);
  },
});
