// Exit codes and the error that carries one: what scripts around meridianctl rely on
// (documented in docs/operations.md#meridianctl).

export const ExitCode = {
  ok: 0,
  /** `diff`: the file differs from the configuration; `status`/`--wait`: not every router runs the latest revision. */
  notConverged: 1,
  /** Unknown command or option, missing argument, unreadable or malformed file. */
  usage: 2,
  /** Control unreachable, too slow, or answering 502/503/504 (PostgreSQL or Redis down). */
  unavailable: 3,
  /** 401 or 403: no token, a wrong one, or a read-only token for a change. */
  auth: 4,
  /** 400, 413 or 422: control refused the input; every field error is listed. */
  invalid: 5,
  /** 404: no such resource, revision or domain (or no configuration yet). */
  notFound: 6,
  /** 409: the change conflicts with the current state (exists already, still referenced...). */
  conflict: 7,
  /** 412: the configuration moved on since the file's base revision (`apply --force` overrides). */
  stale: 8,
  /** Anything unexpected (a 500, an answer meridianctl cannot read). */
  internal: 9,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorKind = Exclude<keyof typeof ExitCode, 'ok' | 'notConverged'>;

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** A failure meridianctl reports on stderr and turns into its exit code. */
export class CliError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: { status?: number; errors?: readonly FieldError[]; hint?: string } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }

  get exitCode(): ExitCodeValue {
    return ExitCode[this.kind];
  }
}

export const usageError = (message: string) => new CliError('usage', message);

/** The exit code of an HTTP error status from control. */
export function kindOfStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 400 || status === 413 || status === 422) return 'invalid';
  if (status === 404) return 'notFound';
  if (status === 409) return 'conflict';
  if (status === 412) return 'stale';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'internal';
}
