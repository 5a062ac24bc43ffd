// `meridianctl revisions` (the history, newest first) and `meridianctl rollback <n>` (a new
// revision equal to n, with control's diff shown first).
import type { MutationOutcome, RevisionSummary } from '#control-api';
import type { CommandContext } from '../cli-context';
import { ExitCode, usageError } from '../exit-codes';
import { renderChanges, table } from '../output';
import { waitAndReport } from './apply';
import { waitOption } from './status';

export async function revisionsCommand(ctx: CommandContext): Promise<number> {
  ctx.noMoreArgs(0);
  const answer = await ctx.client.get<{ revisions: RevisionSummary[] }>('v1/revisions', {
    query: { limit: ctx.string('limit') ?? '20', before: ctx.string('before') },
  });
  const revisions = answer.body.revisions;
  ctx.print(answer.body, () =>
    revisions.length === 0
      ? 'no revisions yet\n'
      : table(
          ['REVISION', 'CREATED', 'AUTHOR', 'PUSHED', 'COMMENT'],
          revisions.map((r) => [
            String(r.number),
            r.createdAt.replace(/\.\d+Z$/, 'Z'),
            r.author,
            r.pushed ? 'yes' : 'waiting',
            (r.rollbackOf === null ? '' : `rollback to ${r.rollbackOf}. `) + (r.comment ?? ''),
          ]),
        ),
  );
  return ExitCode.ok;
}

export async function rollbackCommand(ctx: CommandContext): Promise<number> {
  const raw = ctx.arg(0, 'revision number (meridianctl revisions lists them)');
  ctx.noMoreArgs(1);
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw usageError(`"${raw}" is not a revision number`);
  }
  const waitMs = waitOption(ctx);
  const dryRun = ctx.flag('dry-run');
  const answer = await ctx.client.post<MutationOutcome>(`v1/revisions/${raw}/rollback`, {
    query: { dryRun: dryRun || undefined, comment: ctx.string('comment') },
  });
  const outcome = answer.body;
  const number = outcome.revision.number;
  ctx.print(
    {
      outcome: outcome.outcome,
      revision: dryRun ? null : number,
      rollbackOf: Number(raw),
      changes: outcome.changes,
    },
    () =>
      renderChanges(outcome.changes) +
      (dryRun
        ? `dry run: nothing applied (revision ${number} would equal revision ${raw})\n`
        : `rolled back: revision ${number} equals revision ${raw}\n`),
  );
  if (dryRun || waitMs === null) return ExitCode.ok;
  return (await waitAndReport(ctx, waitMs, number)) ? ExitCode.ok : ExitCode.notConverged;
}
