// `meridianctl apply -f` and `diff -f`: the whole desired configuration in one file, one
// revision for the lot (PUT /v1/config). The diff comes from control's own dry run, so what
// is shown is exactly what would be stored; the apply then carries the same If-Match, so a
// change made by someone else in between is refused (412) rather than overwritten.
import type { MeridianConfigDocument } from '#config';
import type { MutationOutcome } from '#control-api';
import type { CommandContext } from '../cli-context';
import { readDeclarativeFile, type DeclarativeFile } from '../declarative-file';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { renderChanges } from '../output';
import { waitForRollout, waitOption } from './status';

interface Plan {
  readonly file: DeclarativeFile;
  /** The revision control is at (null: no configuration yet). */
  readonly current: number | null;
  /** The revision the change is conditioned on. */
  readonly ifMatch: number | undefined;
  readonly dryRun: MutationOutcome;
}

async function readFile(ctx: CommandContext): Promise<DeclarativeFile> {
  const path = ctx.string('file');
  if (!path) throw usageError('missing -f <file> (the whole configuration as YAML; - for stdin)');
  ctx.noMoreArgs(0);
  return readDeclarativeFile(path, ctx.io.stdin);
}

async function plan(ctx: CommandContext, file: DeclarativeFile, guard: boolean): Promise<Plan> {
  const current = (await ctx.client.find<MeridianConfigDocument>('v1/config'))?.etag ?? null;
  const force = ctx.flag('force');
  let ifMatch: number | undefined;
  if (guard) ifMatch = (force ? current : (file.baseRevision ?? current)) ?? undefined;
  const dryRun = (ifMatchValue: number | undefined) =>
    ctx.client.put<MutationOutcome>('v1/config', {
      body: file.config,
      query: { dryRun: true },
      ifMatch: ifMatchValue,
    });
  try {
    return { file, current, ifMatch, dryRun: (await dryRun(ifMatch)).body };
  } catch (err) {
    if (!(err instanceof CliError) || err.kind !== 'stale') throw err;
    // A stale base is harmless when the file already equals the configuration.
    const unguarded = (await dryRun(undefined)).body;
    if (unguarded.changes.length === 0) return { file, current, ifMatch, dryRun: unguarded };
    throw staleExplained(err, file, current);
  }
}

function staleExplained(err: unknown, file: DeclarativeFile, current: number | null): unknown {
  if (!(err instanceof CliError) || err.kind !== 'stale') return err;
  const base = file.baseRevision;
  return new CliError(
    'stale',
    base !== null && base !== current
      ? `the file is based on revision ${base}, but the configuration is now at revision ${current ?? '?'}: someone changed it since`
      : 'the configuration changed while this apply was running',
    {
      status: 412,
      hint: 'see what changed with `meridianctl diff -f <file>` and merge it into the file, or apply with --force to overwrite it',
    },
  );
}

export async function diffCommand(ctx: CommandContext): Promise<number> {
  const file = await readFile(ctx);
  const { dryRun, current } = await plan(ctx, file, false);
  const stale = file.baseRevision !== null && current !== null && file.baseRevision !== current;
  if (stale) {
    ctx.note(
      `note: the file is based on revision ${file.baseRevision}; the configuration is now at revision ${current}`,
    );
  }
  const changes = dryRun.changes;
  ctx.print({ currentRevision: current, baseRevision: file.baseRevision, changes }, () =>
    changes.length === 0
      ? `no differences: revision ${current} matches the file\n`
      : `${changes.length} change${changes.length === 1 ? '' : 's'} from revision ${current ?? '(none)'}:\n${renderChanges(changes)}`,
  );
  return changes.length === 0 ? ExitCode.ok : ExitCode.notConverged;
}

export async function applyCommand(ctx: CommandContext): Promise<number> {
  const file = await readFile(ctx);
  const waitMs = waitOption(ctx);
  const planned = await plan(ctx, file, true);
  const { dryRun, current } = planned;
  const changes = dryRun.changes;
  const stale = file.baseRevision !== null && current !== null && file.baseRevision !== current;
  if (ctx.flag('force') && stale && changes.length > 0) {
    ctx.note(
      `warning: --force: the file is based on revision ${file.baseRevision}; changes made since (up to revision ${current}) may be undone`,
    );
  }
  const summary = (outcome: string, revision: number | null) => ({
    outcome,
    revision,
    previousRevision: current,
    baseRevision: file.baseRevision,
    changes,
  });
  if (changes.length === 0) {
    ctx.print(
      summary('unchanged', current),
      () => `no changes: revision ${current} already matches the file\n`,
    );
    return ExitCode.ok;
  }
  if (ctx.flag('dry-run')) {
    ctx.print(
      summary('dryRun', null),
      () =>
        `${renderChanges(changes)}dry run: nothing applied (it would become revision ${dryRun.revision.number})\n`,
    );
    return ExitCode.ok;
  }
  let applied: MutationOutcome;
  try {
    applied = (
      await ctx.client.put<MutationOutcome>('v1/config', {
        body: file.config,
        query: { comment: ctx.string('comment') },
        ifMatch: planned.ifMatch,
      })
    ).body;
  } catch (err) {
    throw staleExplained(err, file, current);
  }
  const number = applied.revision.number;
  ctx.print(summary(applied.outcome, number), () =>
    applied.outcome === 'created'
      ? `${renderChanges(applied.changes)}applied: revision ${number}\n`
      : `no changes: revision ${number} already matches the file\n`,
  );
  if (waitMs === null) return ExitCode.ok;
  return (await waitAndReport(ctx, waitMs, number)) ? ExitCode.ok : ExitCode.notConverged;
}

/** `--wait`: until every live router acknowledges `revision`; says so on stderr. */
export async function waitAndReport(
  ctx: CommandContext,
  waitMs: number,
  revision: number,
): Promise<boolean> {
  const started = Date.now();
  const done = await waitForRollout(ctx, waitMs, revision);
  ctx.note(
    done
      ? `every live router runs revision ${revision} (${((Date.now() - started) / 1000).toFixed(1)} s)`
      : `not every live router runs revision ${revision} after ${waitMs / 1000} s: see meridianctl status`,
  );
  return done;
}
