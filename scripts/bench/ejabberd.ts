// The peer benchmark's ejabberd: the Debian package (23.01), installed when missing, run as a
// private instance that shares nothing with a system ejabberd or any other Erlang node here.
//
// Everything lives in the caller's work directory: the YAML config, the ejabberdctl config, the
// mnesia spool and the logs. The node name and cookie are new on every run. Its Erlang
// distribution listens on a loopback port of its own instead of registering with epmd
// (ejabberdctl's ERL_DIST_PORT), so it neither starts epmd nor clashes with nodes that use it
// (RabbitMQ, say), and stopping it leaves no epmd behind. The only XMPP listener is plaintext
// c2s on 127.0.0.1, without traffic shapers: the benchmark measures routing, not throttling.
//
// Debian's ejabberdctl runs ejabberd as the user `ejabberd` (it su's to it when started by
// root), so this module starts it directly as that user and hands the work directory to it.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Cleanup } from '../bench-support';
import { freePort, messageOf } from '../bench-support';

export interface PeerServer {
  readonly name: string;
  readonly domain: string;
  /** Plaintext c2s on 127.0.0.1: no STARTTLS required, SASL PLAIN allowed. */
  readonly c2sPort: number;
  /** OS pids of the server's processes (beam.smp etc.) for CPU/RSS sampling from /proc. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface EjabberdOptions {
  readonly domain: string;
  /** Localparts to register, all with `password`. */
  readonly users: readonly string[];
  readonly password: string;
  /** A fresh private directory for config, spool (mnesia) and logs; handed to user ejabberd. */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

const EJABBERDCTL = '/usr/sbin/ejabberdctl';
const ERL = '/usr/bin/erl';
/** The user Debian's ejabberdctl insists on running as. */
const SERVICE_USER = 'ejabberd';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const VERSION = '23.01';
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const REGISTRATION_TIMEOUT_MS = 300_000;
/** Users registered by one process inside ejabberd; the batches run in parallel. */
const REGISTRATION_BATCH = 250;
const MAX_STANZA_SIZE = 1_048_576;
const MAX_PORTS = 65_536;

// ---------------------------------------------------------------------------------------------
// Installation.

/**
 * Installs the Debian package when ejabberdctl is missing (root only) without letting the
 * package start its system service. Resolves true when it installed.
 */
export async function installEjabberd(log: (line: string) => void): Promise<boolean> {
  if (existsSync(EJABBERDCTL)) return false;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `ejabberd is not installed (${EJABBERDCTL} is missing) and installing it needs root: run ` +
        '"sudo apt-get install -y --no-install-recommends ejabberd", then ' +
        '"sudo systemctl disable --now ejabberd" (the benchmark runs a private instance)',
    );
  }
  const before = new Set(systemInstancePids());
  const started = performance.now();
  log('ejabberd: installing the Debian package (apt-get install ejabberd)');
  await withServiceStartsDenied(log, aptInstall);
  if (!existsSync(EJABBERDCTL)) {
    throw new Error(`apt-get installed ejabberd but ${EJABBERDCTL} is still missing`);
  }
  await stopSystemInstance(
    systemInstancePids().filter((pid) => !before.has(pid)),
    log,
  );
  log(`ejabberd: installed in ${seconds(performance.now() - started)}`);
  return true;
}

async function aptInstall(): Promise<void> {
  const install = ['install', '-y', '--no-install-recommends', 'ejabberd'];
  let result = await runCommand('apt-get', install, { env: aptEnv() });
  if (
    result.code !== 0 &&
    /Unable to locate package|no installation candidate/.test(result.output)
  ) {
    // A container image often ships without package lists.
    const update = await runCommand('apt-get', ['update'], { env: aptEnv() });
    if (update.code !== 0) throw new Error(`apt-get update failed:\n${lastLines(update.output)}`);
    result = await runCommand('apt-get', install, { env: aptEnv() });
  }
  if (result.code !== 0) {
    throw new Error(
      `apt-get install ejabberd failed (${result.code}):\n${lastLines(result.output)}`,
    );
  }
}

const aptEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DEBIAN_FRONTEND: 'noninteractive' });

/**
 * The package's postinst starts the system service through invoke-rc.d or deb-systemd-invoke;
 * both ask policy-rc.d first, and 101 means "not allowed". An existing policy (Docker images
 * ship one that denies everything) is left as it is; a system instance it lets through is
 * stopped afterwards.
 */
async function withServiceStartsDenied(
  log: (line: string) => void,
  action: () => Promise<void>,
): Promise<void> {
  if (existsSync(POLICY_RC_D)) return action();
  const policy =
    '#!/bin/sh\n# Written while the ejabberd package installs for a benchmark.\nexit 101\n';
  writeFileSync(POLICY_RC_D, policy, { mode: 0o755 });
  try {
    await action();
  } finally {
    try {
      if (readFileSync(POLICY_RC_D, 'utf8') === policy) unlinkSync(POLICY_RC_D);
    } catch (error) {
      log(`ejabberd: could not remove the temporary ${POLICY_RC_D}: ${messageOf(error)}`);
    }
  }
}

/** beam.smp processes started by ejabberdctl (`-s ejabberd`), whichever node they are. */
function systemInstancePids(): number[] {
  return listProcesses()
    .filter((p) => isBeam(p.args) && argAfter(p.args, '-s') === 'ejabberd')
    .map((p) => p.pid);
}

async function stopSystemInstance(pids: number[], log: (line: string) => void): Promise<void> {
  if (pids.length === 0) return;
  log(`ejabberd: the package started the system service (pids ${pids.join(', ')}); stopping it`);
  // OTP handles SIGTERM as a clean init:stop(); its exit code 0 keeps systemd from restarting it.
  signalAll(pids, 'SIGTERM');
  if (!(await waitUntil(() => pids.every((pid) => !isAlive(pid)), STOP_GRACE_MS))) {
    signalAll(pids, 'SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// The private instance.

interface Layout {
  readonly node: string;
  readonly cookie: string;
  readonly c2sPort: number;
  readonly distPort: number;
  readonly config: string;
  readonly ctlConfig: string;
  readonly spool: string;
  readonly logs: string;
  readonly console: string;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

export async function startEjabberd(
  options: EjabberdOptions,
  cleanup: Cleanup,
): Promise<PeerServer> {
  await installEjabberd(options.log);
  const account = serviceAccount();
  const layout = await prepareWorkDir(options, account);
  warnAboutFileLimit(options);

  const started = performance.now();
  const server = new EjabberdProcess(layout, account, options.log);
  cleanup.add('ejabberd', () => server.stop());
  await server.waitForC2s();
  options.log(
    `ejabberd: ${VERSION} booted in ${seconds(performance.now() - started)} ` +
      `(c2s 127.0.0.1:${layout.c2sPort}, node ${layout.node}, dist port ${layout.distPort}, ` +
      `work dir ${options.workDir})`,
  );
  await registerUsers(layout, options);
  return {
    name: `ejabberd ${VERSION}`,
    domain: options.domain,
    c2sPort: layout.c2sPort,
    pids: () => instancePids(layout.node),
    stop: () => server.stop(),
  };
}

/** Whom ejabberd runs as: user ejabberd, or null to run it as the current user (who is that). */
function serviceAccount(): Account | null {
  if (process.getuid?.() === 0) {
    try {
      const id = (flag: string) =>
        Number(execFileSync('id', [flag, SERVICE_USER], { encoding: 'utf8' }).trim());
      return { uid: id('-u'), gid: id('-g') };
    } catch {
      throw new Error(`user ${SERVICE_USER} does not exist: reinstall the ejabberd package`);
    }
  }
  if (userInfo().username === SERVICE_USER) return null;
  throw new Error(
    `Debian's ejabberdctl only runs as root or as user ${SERVICE_USER}: run the benchmark as root`,
  );
}

async function prepareWorkDir(options: EjabberdOptions, account: Account | null): Promise<Layout> {
  const workDir = path.resolve(options.workDir);
  const layout: Layout = {
    node: `meridian-bench-${process.pid}-${randomBytes(3).toString('hex')}@localhost`,
    cookie: randomBytes(16).toString('hex'),
    c2sPort: await freePort(),
    distPort: await freePort(),
    config: path.join(workDir, 'ejabberd.yml'),
    ctlConfig: path.join(workDir, 'ejabberdctl.cfg'),
    spool: path.join(workDir, 'spool'),
    logs: path.join(workDir, 'logs'),
    console: path.join(workDir, 'logs', 'console.log'),
  };
  mkdirSync(layout.spool, { recursive: true, mode: 0o700 });
  mkdirSync(layout.logs, { recursive: true, mode: 0o700 });
  writeFileSync(layout.config, ejabberdYaml(options.domain, layout.c2sPort), { mode: 0o600 });
  writeFileSync(layout.ctlConfig, ejabberdctlConfig(layout), { mode: 0o600 });
  if (account) {
    for (const p of [workDir, layout.spool, layout.logs, layout.config, layout.ctlConfig]) {
      chownSync(p, account.uid, account.gid);
    }
    checkReachable(workDir, account);
  }
  return layout;
}

/**
 * Plaintext c2s on loopback and nothing else: no s2s or HTTP listener, no TLS, no shapers, and
 * the modules a one-to-one chat client touches. No mod_offline: the benchmark only sends to
 * online full JIDs. No mod_stream_mgmt: the load client does not resume streams.
 */
function ejabberdYaml(domain: string, c2sPort: number): string {
  return [
    '# Private ejabberd for the peer benchmark, written anew for every run.',
    `hosts: [${JSON.stringify(domain)}]`,
    'loglevel: warning',
    'log_rotate_count: 0',
    'hide_sensitive_log_data: true',
    '# No certificates at all, so nothing for ACME to fetch.',
    'acme:',
    '  auto: false',
    'auth_method: [internal]',
    '# Plain storage keeps bulk registration and SASL PLAIN cheap (SCRAM hashes 4096 rounds).',
    'auth_password_format: plain',
    'listen:',
    '  -',
    `    port: ${c2sPort}`,
    '    ip: "127.0.0.1"',
    '    module: ejabberd_c2s',
    '    starttls_required: false',
    '    shaper: none',
    '    # The default backlog of 5 drops connections when thousands of clients log in at once.',
    '    backlog: 4096',
    `    max_stanza_size: ${MAX_STANZA_SIZE}`,
    'shaper_rules:',
    '  c2s_shaper: none',
    '  s2s_shaper: none',
    'modules:',
    '  mod_disco: {}',
    '  mod_ping: {}',
    '  mod_roster: {}',
    '',
  ].join('\n');
}

/**
 * Sourced by ejabberdctl (--ctl-config). ERL_DIST_PORT makes the node listen on that port
 * without epmd, and makes every ejabberdctl command reach it there.
 */
function ejabberdctlConfig(layout: Layout): string {
  return [
    '# ejabberdctl settings of the private benchmark instance.',
    `ERLANG_NODE=${layout.node}`,
    `ERL_DIST_PORT=${layout.distPort}`,
    `ERL_MAX_PORTS=${MAX_PORTS}`,
    'ERL_PROCESSES=1000000',
    `ERL_OPTIONS="-setcookie ${layout.cookie} -kernel inet_dist_use_interface {127,0,0,1}"`,
    '',
  ].join('\n');
}

/** User ejabberd must be able to walk down to the work directory. */
function checkReachable(workDir: string, account: Account): void {
  for (let dir = path.dirname(workDir); ; dir = path.dirname(dir)) {
    const { mode, uid, gid } = statSync(dir);
    const searchable =
      (uid === account.uid && mode & 0o100) ||
      (gid === account.gid && mode & 0o010) ||
      mode & 0o001;
    if (!searchable) {
      throw new Error(
        `user ${SERVICE_USER} cannot reach ${workDir} (${dir} is not searchable by it): ` +
          'use a work directory under /tmp, or chmod o+x the directories above it',
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** One socket per user session, and then some: a lower limit fails sessions under load. */
function warnAboutFileLimit(options: EjabberdOptions): void {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const limit = match ? Number(match[1]) : Infinity;
  if (limit < options.users.length + 1_000) {
    options.log(
      `ejabberd: warning: open-file limit ${limit} is tight for ${options.users.length} ` +
        'sessions; raise `ulimit -n` before starting the benchmark',
    );
  }
}

/** ejabberdctl foreground as a child, with a watchdog for when this process dies outright. */
class EjabberdProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<string>;
  private exitedWith: string | null = null;
  private readonly watchdog: ChildProcess | null;
  private stopping: Promise<void> | null = null;
  private readonly killOnExit = () => this.killGroup('SIGKILL');

  constructor(
    private readonly layout: Layout,
    private readonly account: Account | null,
    private readonly log: (line: string) => void,
  ) {
    const output = openSync(layout.console, 'a');
    try {
      // Its own process group: Ctrl-C in the terminal reaches the benchmark, which stops it.
      this.child = spawn(EJABBERDCTL, [...this.ctlArgs(), 'foreground'], {
        ...this.spawnOptions(),
        stdio: ['ignore', output, output],
        detached: true,
      });
    } finally {
      closeSync(output);
    }
    this.exited = new Promise((resolve) => {
      const done = (how: string) => {
        this.exitedWith ??= how;
        resolve(how);
      };
      this.child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
      this.child.once('error', (error) => done(`spawn error: ${error.message}`));
    });
    process.once('exit', this.killOnExit);
    this.watchdog = this.startWatchdog();
  }

  async waitForC2s(): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!(await canConnect(this.layout.c2sPort))) {
      if (this.exitedWith !== null) {
        throw new Error(`ejabberd exited while booting (${this.exitedWith})\n${this.logTail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `ejabberd did not accept c2s connections on 127.0.0.1:${this.layout.c2sPort} ` +
            `within ${BOOT_TIMEOUT_MS / 1000} s\n${this.logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  /** `ejabberdctl stop`, then SIGKILL whatever is left after STOP_GRACE_MS. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const started = performance.now();
    if (this.exitedWith === null) {
      const result = await runCommand(EJABBERDCTL, [...this.ctlArgs(), 'stop'], {
        ...this.spawnOptions(),
        timeout: STOP_GRACE_MS,
      });
      if (result.code !== 0) {
        this.log(
          `ejabberd: ejabberdctl stop failed (${result.code}): ${lastLines(result.output, 3)}`,
        );
      }
      const left = STOP_GRACE_MS - (performance.now() - started);
      if (!(await Promise.race([this.exited.then(() => true), sleep(left).then(() => false)]))) {
        this.log(`ejabberd: still running ${STOP_GRACE_MS / 1000} s after stop; killing it`);
      }
    }
    // Whatever outlived ejabberdctl (or was left by a crash) goes now.
    this.killGroup('SIGKILL');
    signalAll(instancePids(this.layout.node), 'SIGKILL');
    await this.exited;
    process.off('exit', this.killOnExit);
    if (this.watchdog?.pid !== undefined && this.watchdog.exitCode === null) {
      try {
        process.kill(-this.watchdog.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.log(`ejabberd: stopped in ${seconds(performance.now() - started)}`);
  }

  private ctlArgs(): string[] {
    const l = this.layout;
    return [
      '--config',
      l.config,
      '--ctl-config',
      l.ctlConfig,
      '--spool',
      l.spool,
      '--logs',
      l.logs,
    ];
  }

  private spawnOptions() {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.dirname(this.layout.config) };
    // Flags of whoever runs the benchmark must not change the instance.
    for (const name of ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS', 'ERL_LIBS']) delete env[name];
    return { cwd: this.layout.spool, env, ...(this.account ?? {}) };
  }

  /** ejabberd outlives a SIGKILLed benchmark; the watchdog then stops its process group. */
  private startWatchdog(): ChildProcess | null {
    if (this.child.pid === undefined) return null;
    const watchdog = spawn(
      'sh',
      [
        '-c',
        'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -TERM "-$1" 2>/dev/null',
        String(process.pid),
        String(this.child.pid),
      ],
      { stdio: 'ignore', detached: true },
    );
    watchdog.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  }

  private killGroup(signal: NodeJS.Signals): void {
    if (this.exitedWith !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  private logTail(): string {
    const parts: string[] = [];
    for (const file of ['ejabberd.log', 'error.log', 'console.log']) {
      const full = path.join(this.layout.logs, file);
      if (!existsSync(full)) continue;
      const text = readFileSync(full, 'utf8').trim();
      if (text) parts.push(`--- ${full}:\n${lastLines(text, 20)}`);
    }
    return parts.length > 0 ? parts.join('\n') : `(nothing logged in ${this.layout.logs})`;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Registration.

/**
 * Registers every user from one hidden Erlang node that calls ejabberd_auth:try_register/3
 * inside ejabberd, in parallel batches: one VM start for all users, where `ejabberdctl register`
 * would start one per user, and no XMPP round trips as with in-band registration (which would
 * also need mod_register and a lifted per-IP registration limit).
 */
async function registerUsers(layout: Layout, options: EjabberdOptions): Promise<void> {
  if (options.users.length === 0) return;
  const started = performance.now();
  // One user per line: XMPP localparts hold no line breaks.
  const usersFile = path.join(path.dirname(layout.config), 'users.txt');
  writeFileSync(usersFile, options.users.join('\n') + '\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['ERL_FLAGS', 'ERL_AFLAGS', 'ERL_ZFLAGS']) delete env[name];
  const client = `register-${randomBytes(3).toString('hex')}-${layout.node}`;
  const result = await runCommand(
    ERL,
    [
      ...['-sname', client, '-setcookie', layout.cookie, '-hidden', '-noinput'],
      // Reach the node on its distribution port; no epmd, and no listening port of our own.
      ...[
        '-start_epmd',
        'false',
        '-erl_epmd_port',
        String(layout.distPort),
        '-dist_listen',
        'false',
      ],
      ...['-eval', REGISTER_EVAL],
      ...[
        '-extra',
        layout.node,
        options.domain,
        options.password,
        usersFile,
        String(REGISTRATION_BATCH),
      ],
    ],
    { env, timeout: REGISTRATION_TIMEOUT_MS },
  );
  unlinkSync(usersFile);
  const registered = /^registered (\d+)$/m.exec(result.output);
  if (result.code !== 0 || !registered || Number(registered[1]) !== options.users.length) {
    throw new Error(
      `registering ${options.users.length} users in ejabberd failed (exit ${result.code}):\n` +
        lastLines(result.output),
    );
  }
  const ms = performance.now() - started;
  options.log(
    `ejabberd: registered ${options.users.length} users in ${seconds(ms)} ` +
      `(${Math.round((options.users.length * 1000) / ms)}/s)`,
  );
}

/**
 * Runs in the registering node. `Register` is made before the user list is read because an
 * interpreted fun carries the bindings made before it to ejabberd's node with every batch.
 * An already existing user counts as registered: registration may be repeated.
 */
const REGISTER_EVAL = `
[NodeS, HostS, PassS, File, BatchS] = init:get_plain_arguments(),
Node = list_to_atom(NodeS),
Host = unicode:characters_to_binary(HostS),
Pass = unicode:characters_to_binary(PassS),
Register = fun(U) -> {U, ejabberd_auth:try_register(U, Host, Pass)} end,
pong == net_adm:ping(Node) orelse begin io:format("cannot reach ~s~n", [Node]), halt(1) end,
Batch = list_to_integer(BatchS),
{ok, Bin} = file:read_file(File),
Users = binary:split(Bin, <<"\\n">>, [global, trim_all]),
Split = fun S([]) -> []; S(L) -> {H, T} = lists:split(min(Batch, length(L)), L), [H | S(T)] end,
Keys = [rpc:async_call(Node, lists, map, [Register, B]) || B <- Split(Users)],
Results = lists:append([case rpc:yield(K) of R when is_list(R) -> R; E -> [{batch, E}] end || K <- Keys]),
Failed = [F || {_, Outcome} = F <- Results, Outcome =/= ok, Outcome =/= {error, exists}],
case Failed of
  [] -> io:format("registered ~b~n", [length(Results)]), halt(0);
  _ -> io:format("~b failed, first: ~p~n", [length(Failed), hd(Failed)]), halt(1)
end.
`;

// ---------------------------------------------------------------------------------------------
// Processes from /proc.

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly args: string[];
}

function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The field after the parenthesised command name, which may contain spaces, is the state.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      entries.push({ pid: Number(name), ppid, args });
    } catch {
      // Exited while we looked.
    }
  }
  return entries;
}

/** The node's beam.smp and its descendants (erl_child_setup, inet_gethost, port programs). */
function instancePids(node: string): number[] {
  const all = listProcesses();
  const found = new Set(
    all.filter((p) => isBeam(p.args) && argAfter(p.args, '-sname') === node).map((p) => p.pid),
  );
  for (let grew = found.size > 0; grew;) {
    grew = false;
    for (const p of all) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return [...found].sort((a, b) => a - b);
}

const isBeam = (args: string[]) => args.length > 0 && path.basename(args[0]!) === 'beam.smp';

function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

interface CommandResult {
  readonly code: number | string;
  /** stdout and stderr. */
  readonly output: string;
}

function runCommand(
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    uid?: number;
    gid?: number;
    timeout?: number;
  } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (!error) return resolve({ code: 0, output });
        const failure = error as NodeJS.ErrnoException & {
          code?: number | string;
          killed?: boolean;
        };
        const code = failure.killed ? 'timeout' : (failure.code ?? 'error');
        resolve({ code, output: output || failure.message });
      },
    );
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function lastLines(text: string, count = 15): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
