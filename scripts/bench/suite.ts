// The measurements both `npm run bench` and `npm run bench:peer` make, whatever the server:
// chat traffic between pairs of sessions (max and steady), and logins plus memory per idle
// session. A server is described by where its sessions connect and how they get a password.
import { loginAll, runLoad, type LoadResult } from './load';
import type { XmppAccount, XmppTarget } from './raw-xmpp';
import { totalRss, UsageMeter, type MeasuredProcess, type ProcessUsage } from './stats';

export interface ServerUnderTest {
  readonly name: string;
  readonly processes: readonly MeasuredProcess[];
  password(localpart: string): Promise<string>;
}

export interface TrafficOptions {
  readonly pairs: number;
  readonly window: number;
  readonly rates: readonly number[];
  readonly warmupS: number;
  readonly durationS: number;
  readonly drainTimeoutS: number;
  readonly loginConcurrency: number;
}

export interface TrafficRun extends LoadResult {
  readonly server: string;
  readonly mode: LoadResult['mode'];
  readonly scenario: string;
  readonly rate: number;
  readonly usage: ProcessUsage[];
  readonly loginsPerSecond: number;
}

const RESOURCE = 'bench';

/** Account i connects to targets[i % targets.length]. */
async function accountsFor(
  server: ServerUnderTest,
  prefix: string,
  count: number,
  targets: XmppTarget | readonly XmppTarget[],
): Promise<{ target: XmppTarget; account: XmppAccount }[]> {
  const spread = Array.isArray(targets) ? targets : [targets as XmppTarget];
  const accounts = [];
  for (let i = 0; i < count; i++) {
    const localpart = `${prefix}${i}`;
    accounts.push({
      target: spread[i % spread.length]!,
      account: { localpart, password: await server.password(localpart), resource: RESOURCE },
    });
  }
  return accounts;
}

/**
 * Senders s0.. on `from`, receivers r0.. on `to` (pair i on the i-th target, round robin, when
 * several are given); one run per rate (0 = max), same sessions. Sessions end afterwards.
 */
export async function runTraffic(
  server: ServerUnderTest,
  scenario: {
    name: string;
    from: XmppTarget | readonly XmppTarget[];
    to: XmppTarget | readonly XmppTarget[];
  },
  options: TrafficOptions,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<TrafficRun[]> {
  const receivers = await loginAll(await accountsFor(server, 'r', options.pairs, scenario.to), {
    concurrency: options.loginConcurrency,
    presence: true,
    signal,
  });
  const senders = await loginAll(await accountsFor(server, 's', options.pairs, scenario.from), {
    concurrency: options.loginConcurrency,
    presence: true,
    signal,
  }).catch((error: unknown) => {
    for (const session of receivers.sessions) session.close();
    throw error;
  });
  const sessions = [...senders.sessions, ...receivers.sessions];
  const loginsPerSecond = (sessions.length * 1000) / (senders.elapsedMs + receivers.elapsedMs);
  const runs: TrafficRun[] = [];
  try {
    for (const rate of options.rates) {
      if (signal.aborted) break;
      log(
        `${server.name} ${scenario.name}: ${rate === 0 ? `max, window ${options.window}` : `${rate} msg/s`}, ` +
          `${options.pairs} pairs, ${options.warmupS} s warm-up + ${options.durationS} s`,
      );
      const meter = new UsageMeter(server.processes);
      let usage: ProcessUsage[] = [];
      const result = await runLoad(
        senders.sessions,
        receivers.sessions,
        { ...options, rate },
        signal,
        (edge) => {
          if (edge === 'start') meter.start();
          else usage = meter.stop();
        },
      );
      runs.push({
        ...result,
        server: server.name,
        scenario: scenario.name,
        rate,
        usage,
        loginsPerSecond,
      });
      if (result.sessionsClosed > 0)
        throw new Error(`${result.sessionsClosed} sessions were closed`);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
  }
  return runs;
}

export interface IdleResult {
  readonly server: string;
  readonly sessions: number;
  readonly loginsPerSecond: number;
  readonly loginSeconds: number;
  /** Growth of the node's resident memory per logged-in idle session. */
  readonly bytesPerSession: number;
  readonly node: string;
  /** CPU and memory of every process while the sessions logged in. */
  readonly loginUsage: ProcessUsage[];
}

/**
 * Logs in `count` idle sessions on one node (`concurrency` at a time) and measures the login
 * rate and how much resident memory the node holds per session once they are all idle.
 */
export async function measureIdle(
  server: ServerUnderTest,
  node: MeasuredProcess,
  target: XmppTarget,
  options: { count: number; concurrency: number; settleMs: number },
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<IdleResult> {
  const accounts = await accountsFor(server, 'idle', options.count, target);
  await sleep(options.settleMs);
  const before = totalRss(node);
  log(
    `${server.name}: logging in ${options.count} idle sessions, ${options.concurrency} at a time`,
  );
  const meter = new UsageMeter(server.processes);
  meter.start();
  const logins = await loginAll(accounts, {
    concurrency: options.concurrency,
    presence: true,
    signal,
  });
  const loginUsage = meter.stop();
  try {
    await sleep(options.settleMs);
    const after = totalRss(node);
    return {
      server: server.name,
      sessions: options.count,
      loginsPerSecond: logins.perSecond,
      loginSeconds: logins.elapsedMs / 1000,
      bytesPerSession: (after - before) / options.count,
      node: node.name,
      loginUsage,
    };
  } finally {
    log(`${server.name}: closing the idle sessions`);
    await endAll(logins.sessions, 500);
  }
}

/** Ends sessions `batch` at a time (closing thousands at once only measures the kernel). */
async function endAll(sessions: readonly { end(): Promise<void> }[], batch: number): Promise<void> {
  for (let i = 0; i < sessions.length; i += batch) {
    await Promise.all(sessions.slice(i, i + batch).map((s) => s.end().catch(() => undefined)));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
