// Loaded with `--require` into the processes of the installation a benchmark starts
// (`bench --gc-stats`): counts garbage collections by kind and writes, when the process exits,
// their count, total and longest pause, and every pause (start and duration, ms since the
// process started) to BENCH_GC_STATS_DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

const dir = process.env.BENCH_GC_STATS_DIR;
if (dir) {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
  };
  const stats: Record<string, { count: number; totalMs: number; maxMs: number; over1ms: number }> =
    {};
  const pauses: [string, number, number][] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & {
      detail?: { kind?: number };
    })[]) {
      const kind = kinds[entry.detail?.kind ?? -1] ?? 'other';
      pauses.push([kind, Math.round(entry.startTime), Number(entry.duration.toFixed(2))]);
      const s = (stats[kind] ??= { count: 0, totalMs: 0, maxMs: 0, over1ms: 0 });
      s.count++;
      s.totalMs += entry.duration;
      s.maxMs = Math.max(s.maxMs, entry.duration);
      if (entry.duration > 1) s.over1ms++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  process.once('exit', () => {
    mkdirSync(dir, { recursive: true });
    const name = `${path.basename(process.argv[1] ?? 'node', '.js')}-${process.pid}.json`;
    writeFileSync(
      path.join(dir, name),
      JSON.stringify({ argv: process.argv.slice(1), stats, pauses }),
    );
  });
}
