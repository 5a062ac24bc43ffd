// `meridianctl status`: which router runs which revision, per datacenter, stale and refusing
// routers flagged; exit 0 only when every live router acknowledges the latest revision.
// `--wait <duration>` polls until then (what a rollout script waits on).
import type { MeridianConfigDocument } from '#config';
import type { RolloutView, RouterView } from '#control-api';
import type { CommandContext } from '../cli-context';
import { parseDuration } from '../dev-token';
import { ExitCode, usageError } from '../exit-codes';
import { ago, table } from '../output';

export interface StatusReport {
  readonly latestRevision: number;
  /** Every live router acknowledges the latest revision (and there is at least one). */
  readonly converged: boolean;
  readonly routers: RouterView[];
  readonly revisions: RolloutView['revisions'];
  /** Datacenters of the configuration with no live router. */
  readonly datacentersWithoutRouters: string[];
}

export function isConverged(rollout: RolloutView, atLeastRevision = 0): boolean {
  const live = rollout.routers.filter((router) => !router.stale);
  return (
    rollout.latestRevision >= atLeastRevision &&
    live.length > 0 &&
    live.every((router) => router.synced)
  );
}

async function readReport(ctx: CommandContext): Promise<StatusReport> {
  const [rollout, config] = await Promise.all([
    ctx.client.get<RolloutView>('v1/routers'),
    ctx.client.find<MeridianConfigDocument>('v1/config'),
  ]);
  const live = new Set(rollout.body.routers.filter((r) => !r.stale).map((r) => r.localHost));
  return {
    latestRevision: rollout.body.latestRevision,
    converged: isConverged(rollout.body),
    routers: rollout.body.routers,
    revisions: rollout.body.revisions,
    datacentersWithoutRouters: (config?.body.datacenters ?? [])
      .map((dc) => dc.localHost)
      .filter((localHost) => !live.has(localHost)),
  };
}

/** Polls until every live router acknowledges revision `atLeast` or later; false on timeout. */
export async function waitForRollout(
  ctx: CommandContext,
  timeoutMs: number,
  atLeast = 0,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rollout = await ctx.client.get<RolloutView>('v1/routers');
    if (isConverged(rollout.body, atLeast)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function waitOption(ctx: CommandContext): number | null {
  const raw = ctx.string('wait');
  if (raw === undefined) return null;
  const seconds = parseDuration(raw);
  if (seconds === null) throw usageError(`--wait takes a duration such as 30s or 2m, not "${raw}"`);
  return seconds * 1000;
}

export async function statusCommand(ctx: CommandContext): Promise<number> {
  ctx.noMoreArgs(0);
  const waitMs = waitOption(ctx);
  if (waitMs !== null) await waitForRollout(ctx, waitMs);
  const report = await readReport(ctx);
  ctx.print(report, () => renderStatus(report));
  return report.converged ? ExitCode.ok : ExitCode.notConverged;
}

function noteOf(router: RouterView, latest: number): string {
  if (router.stale) return `STALE: silent since ${ago(router.heartbeatAt)}`;
  if (router.status === 'nack') {
    return `REFUSED revision ${router.rejectedRevision ?? '?'}: ${router.error ?? 'no reason given'}`;
  }
  if (router.revision < latest) return 'behind';
  return '';
}

export function renderStatus(report: StatusReport): string {
  const live = report.routers.filter((r) => !r.stale);
  const synced = live.filter((r) => r.synced).length;
  const lines: string[] = [];
  lines.push(
    report.latestRevision === 0
      ? 'no configuration yet (meridianctl apply -f <file> creates the first revision)'
      : `latest revision ${report.latestRevision}: ${synced} of ${live.length} live router${live.length === 1 ? '' : 's'} run it` +
          (report.converged ? '' : ' (not converged)'),
  );
  lines.push('');
  const rows = report.routers.map((router) => [
    router.localHost,
    router.node,
    String(router.revision),
    router.stale ? 'stale' : router.status,
    String(router.domainSeq),
    router.sessions === null ? '-' : String(router.sessions),
    ago(router.heartbeatAt),
    noteOf(router, report.latestRevision),
  ]);
  for (const localHost of report.datacentersWithoutRouters) {
    rows.push([localHost, '-', '-', '-', '-', '-', '-', 'no live router']);
  }
  if (rows.length === 0) {
    lines.push('no router has reported yet');
    return lines.join('\n') + '\n';
  }
  let out = lines.join('\n') + '\n';
  out += table(
    ['DATACENTER', 'NODE', 'REVISION', 'STATUS', 'DOMAIN SEQ', 'SESSIONS', 'HEARTBEAT', 'NOTE'],
    rows.sort((a, b) => a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!)),
  );
  for (const router of report.routers.filter((r) => r.status === 'nack' && r.errors.length > 0)) {
    out += `\n${router.localHost} ${router.node} refused revision ${router.rejectedRevision}:\n`;
    for (const error of router.errors) out += `  - ${error.path}: ${error.message}\n`;
  }
  return out;
}
