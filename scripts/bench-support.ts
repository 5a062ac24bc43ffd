// What both benchmarks need around the thing they measure: flags errors, cleanup of every
// resource they start (also on Ctrl-C or a crash), free ports and CPU time from /proc.
import { readFileSync } from 'node:fs';
import net from 'node:net';

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
