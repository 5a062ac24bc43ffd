// What both benchmarks need around the thing they measure: flags errors, cleanup of every
// resource they start (also on Ctrl-C or a crash), free ports and CPU time from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import Redis from 'ioredis';

const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? 'redis-server';

/** A bad command line: the benchmark prints it with its usage and exits 2. */
export class UsageError extends Error {}

export type Undo = () => Promise<void>;

/** Resources, each registered with its undo as soon as it exists. */
export class Cleanup {
  private readonly undos: { what: string; undo: Undo }[] = [];
  private running: Promise<void> | null = null;

  add(what: string, undo: Undo): void {
    this.undos.push({ what, undo });
  }

  /** Undoes everything once, newest first; later calls wait for the same run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, undo } of this.undos.reverse()) {
        try {
          await undo();
        } catch (error) {
          console.error(`bench: cleanup of ${what} failed: ${messageOf(error)}`);
        }
      }
    })();
    return this.running;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process in ms, from /proc (Linux); null elsewhere. */
export function procCpuMs(pid: number, ticksPerSecond: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

export const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

export interface BenchmarkEntry<O> {
  readonly usage: string;
  parse(args: string[]): O;
  /** Resolves true when every check passed. Resources go into `cleanup` as they are made. */
  run(options: O, cleanup: Cleanup, stop: AbortSignal): Promise<boolean>;
  /** A last line once everything is cleaned up (where profiles were written, say). */
  afterCleanup?(options: O): void;
}

/**
 * The process around a benchmark: flags (exit 2 on a bad one, 0 for --help), Ctrl-C and
 * SIGTERM clean up and exit 130, exit 0 when every check passed and 1 otherwise.
 */
export function runBenchmark<O>(entry: BenchmarkEntry<O>): void {
  const main = async (): Promise<number> => {
    let options: O;
    try {
      options = entry.parse(process.argv.slice(2));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      if (error.message) console.error(`bench: ${error.message}`);
      console.error(entry.usage);
      return error.message ? 2 : 0;
    }
    const cleanup = new Cleanup();
    const stop = new AbortController();
    const interrupt = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) return;
      stop.abort();
      console.error(`bench: ${signal}, cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);
    try {
      return (await entry.run(options, cleanup, stop.signal)) ? 0 : 1;
    } catch (error) {
      if (!stop.signal.aborted) console.error(`bench failed: ${messageOf(error)}`);
      return 1;
    } finally {
      await cleanup.run();
      entry.afterCleanup?.(options);
    }
  };
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`bench failed: ${messageOf(error)}`);
      process.exit(1);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Child processes, and a private redis-server (BENCH_REDIS_SERVER names the binary).

/** Children still running when this process exits for any reason are killed outright. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function track(child: ChildProcess): Promise<string> {
  children.add(child);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ? `signal ${signal}` : `code ${code}`);
    });
    child.once('error', (error) => {
      children.delete(child);
      resolve(`spawn error: ${error.message}`);
    });
  });
}

export async function stopChild(
  child: ChildProcess,
  exited: Promise<string>,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (!children.has(child)) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface RedisServer {
  readonly url: string;
  readonly pid: number;
}

export async function startRedis(cleanup: Cleanup): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--protected-mode', 'no', '--loglevel', 'warning'],
    ],
    { stdio: 'ignore', detached: true },
  );
  const exited = track(child);
  cleanup.add('redis-server', () => stopChild(child, exited, 'SIGTERM', 5_000));
  if (child.pid !== undefined) {
    // The routers leave when this process does, whatever kills it (their IPC channel closes);
    // redis-server would not, if this process were killed outright: a watchdog stops it then.
    const watchdog = spawn(
      'sh',
      [
        '-c',
        'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill "$1" 2>/dev/null',
        String(process.pid),
        String(child.pid),
      ],
      { stdio: 'ignore', detached: true },
    );
    watchdog.on('error', () => undefined);
    const watchdogExited = track(watchdog);
    cleanup.add('redis watchdog', async () => {
      if (!children.has(watchdog)) return;
      // Its own process group: the `sleep` it may be waiting on goes with it.
      process.kill(-watchdog.pid!, 'SIGKILL');
      await watchdogExited;
    });
  }
  const url = `redis://127.0.0.1:${port}/0`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return { url, pid: child.pid! };
    } catch {
      if (!children.has(child) || Date.now() > deadline) {
        throw new Error(`${REDIS_SERVER} did not start on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      probe.disconnect();
    }
  }
}

/** `--name value` / `--name=value` flags, taken one by one; leftovers are an error. */
export class Flags {
  private readonly values = new Map<string, string>();

  constructor(argv: readonly string[], booleans: readonly string[] = []) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--help' || arg === '-h') throw new UsageError('');
      const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
      if (!match) throw new UsageError(`unexpected argument "${arg}"`);
      if (booleans.includes(match[1]!) && match[2] === undefined) {
        this.values.set(match[1]!, 'true');
        continue;
      }
      const value = match[2] ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
      this.values.set(match[1]!, value);
    }
  }

  text(name: string): string | undefined {
    const raw = this.values.get(name);
    this.values.delete(name);
    return raw;
  }

  flag(name: string): boolean {
    const raw = this.text(name);
    if (raw === undefined || raw === 'false') return false;
    if (raw === 'true') return true;
    throw new UsageError(`--${name} takes no value`);
  }

  number(name: string, fallback: number, min: number, integer = true): number {
    const raw = this.text(name);
    if (raw === undefined) return fallback;
    return checkNumber(name, raw, min, integer);
  }

  numbers(name: string, fallback: readonly number[], min: number): number[] {
    const raw = this.text(name);
    if (raw === undefined) return [...fallback];
    return raw.split(',').map((part) => checkNumber(name, part.trim(), min, true));
  }

  choices<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
    const raw = this.text(name);
    if (raw === undefined) return [...fallback];
    return raw.split(',').map((part) => {
      const choice = part.trim() as T;
      if (!allowed.includes(choice)) {
        throw new UsageError(
          `--${name} takes ${allowed.join(', ')} (comma-separated), not "${part}"`,
        );
      }
      return choice;
    });
  }

  /** Throws on any flag nobody took. */
  done(): void {
    if (this.values.size > 0)
      throw new UsageError(`unknown option --${[...this.values.keys()][0]}`);
  }
}

function checkNumber(name: string, raw: string, min: number, integer: boolean): number {
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return n;
}
