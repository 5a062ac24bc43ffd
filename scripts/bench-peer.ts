// `npm run bench:peer`: Meridian beside a mature XMPP server on the same machine, measured by
// the same raw XMPP load client with the same settings in the same run. The peer is ejabberd
// 23.01 from Debian (installed when missing), one node, local chat, shapers off, PLAIN on
// loopback; Meridian is the local installation (configured alike: PLAIN on loopback, no
// per-session rate limit). One after the other, never at once, so each has the machine.
//
//   npm run bench:peer -- [--pairs 100] [--window 20] [--duration 10] [--warmup 2]
//                         [--rate 2000] [--idle-sessions 10000] [--login-concurrency 200]
//                         [--mode local,cross-dc]
//
// Prints each server's table, then Meridian/ejabberd ratios against the targets, and one
// JSON line. Exits 1 when a message was lost, duplicated, reordered or errored.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Flags, runBenchmark, type Cleanup } from './bench-support';
import { startEjabberd } from './bench/ejabberd';
import { meridianUnderTest } from './bench/meridian';
import { idleTable, problemsOf, table, trafficTable } from './bench/report';
import {
  measureIdle,
  runTraffic,
  type IdleResult,
  type ServerUnderTest,
  type TrafficRun,
} from './bench/suite';

const SCENARIOS = {
  local: { from: 'dc1-a', to: 'dc1-a' },
  'cross-node': { from: 'dc1-a', to: 'dc1-b' },
  'cross-dc': { from: 'dc1-a', to: 'dc2-a' },
} as const;
type Scenario = keyof typeof SCENARIOS;

interface Options {
  readonly pairs: number;
  readonly window: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly drainTimeoutS: number;
  readonly rate: number;
  readonly idleSessions: number;
  readonly loginConcurrency: number;
  readonly modes: Scenario[];
}

const USAGE =
  'usage: npm run bench:peer -- [--pairs 100] [--window 20] [--duration 10] [--warmup 2]\n' +
  '         [--rate 2000] [--idle-sessions 10000] [--login-concurrency 200]\n' +
  '         [--mode local,cross-dc]';

function parse(argv: string[]): Options {
  const flags = new Flags(argv);
  const options: Options = {
    pairs: flags.number('pairs', 100, 1),
    window: flags.number('window', 20, 1),
    durationS: flags.number('duration', 10, 1, false),
    warmupS: flags.number('warmup', 2, 0, false),
    drainTimeoutS: flags.number('drain-timeout', 15, 1),
    rate: flags.number('rate', 2000, 1),
    idleSessions: flags.number('idle-sessions', 10_000, 0),
    loginConcurrency: flags.number('login-concurrency', 200, 1),
    modes: flags.choices('mode', Object.keys(SCENARIOS) as Scenario[], ['local', 'cross-dc']),
  };
  flags.done();
  return options;
}

const log = (line: string) => console.log(`bench:peer: ${line}`);
const DOMAIN = 'example.com';
const PASSWORD = 'bench-secret';

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  const traffic = { ...options, rates: [0, options.rate] };
  const idle: IdleResult[] = [];
  const runs: TrafficRun[] = [];
  const idleOptions = {
    count: options.idleSessions,
    concurrency: options.loginConcurrency,
    settleMs: 2_000,
  };

  // ---- ejabberd
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-peer-'));
  cleanup.add('ejabberd work folder', async () =>
    rmSync(workDir, { recursive: true, force: true }),
  );
  const users = [
    ...Array.from({ length: options.pairs }, (_, i) => [`s${i}`, `r${i}`]).flat(),
    ...Array.from({ length: options.idleSessions }, (_, i) => `idle${i}`),
  ];
  const ejabberd = await startEjabberd(
    { domain: DOMAIN, users, password: PASSWORD, workDir, log },
    cleanup,
  );
  const peer: ServerUnderTest = {
    name: 'ejabberd',
    processes: [{ name: 'ejabberd', pids: () => ejabberd.pids() }],
    password: async () => PASSWORD,
  };
  const peerTarget = {
    host: '127.0.0.1',
    port: ejabberd.c2sPort,
    domain: DOMAIN,
    tls: 'never' as const,
  };
  if (options.idleSessions > 0) {
    idle.push(await measureIdle(peer, peer.processes[0]!, peerTarget, idleOptions, stop, log));
  }
  runs.push(
    ...(await runTraffic(
      peer,
      { name: 'local', from: peerTarget, to: peerTarget },
      traffic,
      stop,
      log,
    )),
  );
  await ejabberd.stop();

  // ---- Meridian
  const meridian = await meridianUnderTest({ attach: false, env: {}, log }, cleanup);
  const server: ServerUnderTest = {
    name: 'meridian',
    processes: meridian.processes,
    password: meridian.password,
  };
  if (options.idleSessions > 0) {
    const node = meridian.processes.find((p) => p.name === 'dc1-a')!;
    idle.push(await measureIdle(server, node, meridian.target('dc1-a'), idleOptions, stop, log));
  }
  for (const mode of options.modes) {
    const { from, to } = SCENARIOS[mode];
    runs.push(
      ...(await runTraffic(
        server,
        { name: mode, from: meridian.target(from), to: meridian.target(to) },
        traffic,
        stop,
        log,
      )),
    );
  }

  const comparison = compare(runs, idle, options);
  console.log('');
  if (idle.length > 0) console.log(`${idleTable(idle)}\n`);
  console.log(`${trafficTable(runs)}\n`);
  console.log(
    `${table(['measure', 'meridian', 'ejabberd', 'ratio', 'target', 'met'], comparison.rows)}\n`,
  );
  const problems = problemsOf(runs);
  for (const problem of problems) console.log(`PROBLEM: ${problem}`);
  console.log(
    JSON.stringify({ bench: 'peer', options, idle, runs, comparison: comparison.figures }),
  );
  return problems.length === 0;
}

interface Figure {
  readonly measure: string;
  readonly meridian: number;
  readonly ejabberd: number | null;
  readonly ratio: number | null;
  readonly target: string;
  readonly met: boolean;
}

/** The targets, each as Meridian's figure against ejabberd's (or an absolute bound). */
function compare(
  runs: readonly TrafficRun[],
  idle: readonly IdleResult[],
  options: Options,
): { figures: Figure[]; rows: string[][] } {
  const find = (server: string, scenario: string, rate: number) =>
    runs.find((r) => r.server === server && r.scenario === scenario && r.rate === rate);
  const peerMax = find('ejabberd', 'local', 0)?.messagesPerSecond ?? null;
  const figures: Figure[] = [];
  const ratioFigure = (measure: string, scenario: Scenario, minimum: number) => {
    const run = find('meridian', scenario, 0);
    if (!run || peerMax === null) return;
    const ratio = run.messagesPerSecond / peerMax;
    figures.push({
      measure,
      meridian: run.messagesPerSecond,
      ejabberd: peerMax,
      ratio,
      target: `>= ${minimum.toFixed(1)} x`,
      met: ratio >= minimum,
    });
  };
  ratioFigure('local max msg/s', 'local', 1.3);
  ratioFigure('cross-node max msg/s', 'cross-node', 1.0);
  ratioFigure('cross-dc max msg/s', 'cross-dc', 1.0);
  const p99Figure = (scenario: Scenario, bound: number) => {
    const run = find('meridian', scenario, options.rate);
    const peer = find('ejabberd', 'local', options.rate);
    const p99 = run?.latencyMs?.p99;
    if (p99 === undefined) return;
    const peerP99 = peer?.latencyMs?.p99 ?? null;
    figures.push({
      measure: `${scenario} p99 ms at ${options.rate}/s`,
      meridian: p99,
      ejabberd: peerP99,
      ratio: peerP99 ? p99 / peerP99 : null,
      target: `<= ${bound} ms`,
      met: p99 <= bound,
    });
  };
  p99Figure('local', 1);
  p99Figure('cross-node', 2);
  p99Figure('cross-dc', 2);
  const ours = idle.find((r) => r.server === 'meridian');
  const theirs = idle.find((r) => r.server === 'ejabberd');
  if (ours) {
    figures.push({
      measure: 'logins/s',
      meridian: ours.loginsPerSecond,
      ejabberd: theirs?.loginsPerSecond ?? null,
      ratio: theirs ? ours.loginsPerSecond / theirs.loginsPerSecond : null,
      target: '>= 2000/s',
      met: ours.loginsPerSecond >= 2000,
    });
    figures.push({
      measure: 'KiB per idle session',
      meridian: ours.bytesPerSession / 1024,
      ejabberd: theirs ? theirs.bytesPerSession / 1024 : null,
      ratio: theirs ? ours.bytesPerSession / theirs.bytesPerSession : null,
      target: '<= 16 KiB',
      met: ours.bytesPerSession <= 16 * 1024,
    });
  }
  const number = (value: number | null) =>
    value === null
      ? '-'
      : value >= 100
        ? Math.round(value).toLocaleString('en-US')
        : value.toFixed(2);
  const rows = figures.map((f) => [
    f.measure,
    number(f.meridian),
    number(f.ejabberd),
    f.ratio === null ? '-' : `${f.ratio.toFixed(2)} x`,
    f.target,
    f.met ? 'yes' : 'NO',
  ]);
  return { figures, rows };
}

runBenchmark({ usage: USAGE, parse, run });
