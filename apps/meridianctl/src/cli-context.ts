// What every command gets: its arguments and options, where to print, and a client of
// control resolved from flags, environment and the local installation (in that order).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { ControlClient } from './control-client';
import { usageError } from './exit-codes';
import {
  ADMIN_TOKEN_FILE,
  readInstallation,
  readStateFile,
  type LocalInstallation,
} from './local-installation';
import { toJson, toYaml, type OutputFormat } from './output';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: Readable;
  out(text: string): void;
  err(text: string): void;
  /** Runs this same command line again in a new process with more environment (chat's CA). */
  relaunch?(extraEnv: Record<string, string>): Promise<number>;
}

export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 10_000;

export class CommandContext {
  private cachedClient: ControlClient | null = null;
  private cachedInstallation: LocalInstallation | null | undefined;

  constructor(
    readonly io: CliIo,
    /** Positional arguments after the command's name. */
    readonly args: readonly string[],
    readonly options: OptionValues,
    readonly output: OutputFormat,
    readonly stateDir: string,
  ) {}

  get installation(): LocalInstallation | null {
    if (this.cachedInstallation === undefined) {
      this.cachedInstallation = readInstallation(this.stateDir);
    }
    return this.cachedInstallation;
  }

  /** `--control`, `MERIDIAN_CONTROL_URL`, the local installation's, or 127.0.0.1:8080. */
  get controlUrl(): string {
    const url =
      this.string('control') ??
      (this.io.env.MERIDIAN_CONTROL_URL?.trim() || undefined) ??
      this.installation?.controlUrl ??
      DEFAULT_CONTROL_URL;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    } catch {
      throw usageError(`"${url}" is not an http(s) URL of control`);
    }
    return url;
  }

  /** `--token`, `MERIDIAN_TOKEN`, or the dev admin token `npm start` keeps. */
  get token(): string | null {
    return (
      this.string('token') ??
      (this.io.env.MERIDIAN_TOKEN?.trim() || null) ??
      readStateFile(join(this.stateDir, ADMIN_TOKEN_FILE))
    );
  }

  /**
   * `--ca-file` or `MERIDIAN_CA_FILE`: the CA that signed control's HTTPS certificate (a
   * private one), trusted instead of the system's; null when neither is set.
   */
  get controlCa(): string | null {
    const file = this.string('ca-file') ?? (this.io.env.MERIDIAN_CA_FILE?.trim() || undefined);
    if (file === undefined) return null;
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw usageError(`cannot read the CA file ${file} (--ca-file, MERIDIAN_CA_FILE): ${reason}`);
    }
    try {
      new X509Certificate(pem);
    } catch {
      throw usageError(
        `the CA file ${file} (--ca-file, MERIDIAN_CA_FILE) holds no PEM certificate`,
      );
    }
    return pem;
  }

  get client(): ControlClient {
    if (!this.cachedClient) {
      const raw = this.string('timeout');
      const timeoutMs = raw === undefined ? DEFAULT_TIMEOUT_MS : Number(raw) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
        throw usageError(`--timeout must be a positive number of seconds, not "${raw}"`);
      }
      this.cachedClient = new ControlClient(this.controlUrl, this.token, timeoutMs, this.controlCa);
    }
    return this.cachedClient;
  }

  string(name: string): string | undefined {
    const value = this.options[name];
    return typeof value === 'string' ? value : undefined;
  }

  flag(name: string): boolean {
    return this.options[name] === true;
  }

  /** The positional argument at `index`, or a usage error naming it. */
  arg(index: number, what: string): string {
    const value = this.args[index];
    if (value === undefined || value === '') throw usageError(`missing ${what}`);
    return value;
  }

  noMoreArgs(count: number): void {
    if (this.args.length > count) {
      throw usageError(`unexpected argument "${this.args[count]}"`);
    }
  }

  /** Prints `data` as JSON/YAML, or `text()` for people. */
  print(data: unknown, text: () => string): void {
    if (this.output === 'json') this.io.out(toJson(data));
    else if (this.output === 'yaml') this.io.out(toYaml(data));
    else this.io.out(text());
  }

  /** A warning or progress line: stderr, so that stdout stays the command's result. */
  note(line: string): void {
    this.io.err(`${line}\n`);
  }
}
