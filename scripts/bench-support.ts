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
