// Readable tables of the runs; the JSON line next to them carries every figure.
import type { ProcessUsage } from './stats';
import type { IdleResult, TrafficRun } from './suite';

const fixed = (value: number | undefined, digits = 2) =>
  value === undefined ? '-' : value.toFixed(digits);

export function trafficTable(runs: readonly TrafficRun[]): string {
  const header = [
    'server',
    'scenario',
    'load',
    'msg/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'lost',
    'dup',
    'order',
    'err',
    'CPU % (RSS MiB)',
  ];
  const rows = runs.map((run) => [
    run.server,
    run.scenario,
    run.rate === 0 ? 'max' : `${run.rate}/s`,
    Math.round(run.messagesPerSecond).toLocaleString('en-US'),
    fixed(run.latencyMs?.p50),
    fixed(run.latencyMs?.p90),
    fixed(run.latencyMs?.p99),
    fixed(run.latencyMs?.max, 1),
    String(run.lost),
    String(run.duplicated),
    String(run.outOfOrder),
    String(run.errored),
    usageText(run.usage, true),
  ]);
  return table(header, rows);
}

function usageText(usage: readonly ProcessUsage[], rss = false): string {
  return usage
    .filter((u) => u.cpuPercent >= 0.5 || u.name === 'load client')
    .map((u) => `${u.name} ${Math.round(u.cpuPercent)}${rss ? ` (${Math.round(u.rssMiB)})` : ''}`)
    .join(', ');
}

export function idleTable(results: readonly IdleResult[]): string {
  return table(
    ['server', 'node', 'sessions', 'logins/s', 'KiB per idle session', 'CPU % while logging in'],
    results.map((r) => [
      r.server,
      r.node,
      r.sessions.toLocaleString('en-US'),
      Math.round(r.loginsPerSecond).toLocaleString('en-US'),
      fixed(r.bytesPerSession / 1024, 1),
      usageText(r.loginUsage),
    ]),
  );
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** What makes a run fail: anything lost, duplicated, reordered or answered with an error. */
export function problemsOf(runs: readonly TrafficRun[]): string[] {
  const problems: string[] = [];
  for (const run of runs) {
    const what = `${run.server} ${run.scenario} ${run.rate === 0 ? 'max' : `${run.rate}/s`}`;
    if (run.lost) problems.push(`${what}: ${run.lost} messages lost`);
    if (run.duplicated) problems.push(`${what}: ${run.duplicated} duplicated`);
    if (run.outOfOrder) problems.push(`${what}: ${run.outOfOrder} out of order`);
    if (run.errored) {
      problems.push(
        `${what}: ${run.errored} answered with an error, first: ${run.errorSamples[0]}`,
      );
    }
    if (run.unexpected) problems.push(`${what}: ${run.unexpected} unexpected stanzas`);
  }
  return problems;
}
