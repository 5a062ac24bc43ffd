// The processes of the local installation: each child runs in its own process group (so a
// terminal's Ctrl-C reaches only `npm start`, which then drains them in order with SIGTERM),
// logs in full to `.local/logs/<name>.log`, and shows its warnings and errors in the
// terminal (everything with MERIDIAN_VERBOSE=1).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

export interface ProcessSpec {
  readonly name: string;
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly exited: Promise<Exit>;
  /** The last lines it printed, for the message when it fails. */
  readonly tail: string[] = [];
  /** The first error it reported (stack traces make the tail alone unhelpful). */
  firstError: string | null = null;
  private readonly log: WriteStream;
  private readonly child: ChildProcess;
  private exit: Exit | null = null;

  constructor(
    readonly spec: ProcessSpec,
    verbose: boolean,
    echo: (line: string) => void,
  ) {
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, [spec.script], {
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.log.write(`${line}\n`);
        const shown = verbose ? line : terminalLine(line);
        const plain = stripAnsi(shown ?? line);
        this.tail.push(plain);
        if (this.tail.length > 10) this.tail.shift();
        if (this.firstError === null && isErrorLine(line)) this.firstError = plain;
        if (shown !== null) echo(`${spec.name.padEnd(7)} ${shown}`);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', () => {
        this.exit = { code: 1, signal: null };
        resolve(this.exit);
      });
    });
    void this.exited.then(() => this.log.end());
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get running(): boolean {
    return this.exit === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  async stop(graceMs: number): Promise<Exit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Warnings and errors of a pino JSON line, and any line that is not JSON; null otherwise. */
export function terminalLine(line: string): string | null {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as {
      level?: number;
      msg?: unknown;
      context?: unknown;
      err?: { message?: string };
    };
    if ((entry.level ?? 30) < 40) return null;
    const context = typeof entry.context === 'string' ? `[${entry.context}] ` : '';
    const detail = entry.err?.message ? ` (${entry.err.message})` : '';
    return `${LEVELS[entry.level ?? 30] ?? entry.level} ${context}${String(entry.msg ?? '')}${detail}`;
  } catch {
    return line;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export const stripAnsi = (text: string) => text.replace(ANSI, '');

function isErrorLine(line: string): boolean {
  if (line.startsWith('{')) {
    try {
      return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
    } catch {
      return false;
    }
  }
  return /error/i.test(line);
}

/** Whether a process with this pid exists and runs one of our scripts (Linux: /proc). */
export function isOurProcess(pid: number | null | undefined, scriptPart: string): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && cmdline.includes(scriptPart);
  } catch {
    return true; // no /proc (macOS): the pid exists, trust the record
  }
}
