// Summaries the benchmarks print: percentiles of a sample, and CPU and memory of the server
// processes under load, read from /proc so any server (Meridian, ejabberd) is measured alike.
import { readFileSync } from 'node:fs';
import { procCpuMs } from '../bench-support';

export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function summarise(values: Float64Array): Summary | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0]!,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted[sorted.length - 1]!,
  };
}

/** A named group of OS processes (a router node, ejabberd's VM, Redis...). */
export interface MeasuredProcess {
  readonly name: string;
  pids(): number[];
}

export interface ProcessUsage {
  readonly name: string;
  /** CPU over the interval, in % of one core. */
  readonly cpuPercent: number;
  readonly rssMiB: number;
}

interface Sample {
  readonly at: number;
  readonly cpuMs: number[];
}

const TICKS_PER_SECOND = 100;

export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const totalRss = (process: MeasuredProcess): number =>
  process.pids().reduce((sum, pid) => sum + rssBytes(pid), 0);

/** CPU used by each process between start() and stop(), and its RSS at stop(). */
export class UsageMeter {
  private first: Sample | null = null;
  private readonly self = { cpu: process.cpuUsage(), at: 0 };

  constructor(private readonly processes: readonly MeasuredProcess[]) {}

  private sample(): Sample {
    return {
      at: performance.now(),
      cpuMs: this.processes.map((p) =>
        p.pids().reduce((sum, pid) => sum + (procCpuMs(pid, TICKS_PER_SECOND) ?? 0), 0),
      ),
    };
  }

  start(): void {
    this.first = this.sample();
    this.self.cpu = process.cpuUsage();
    this.self.at = performance.now();
  }

  stop(): ProcessUsage[] {
    const first = this.first ?? this.sample();
    const last = this.sample();
    const wallMs = last.at - first.at;
    const client = process.cpuUsage(this.self.cpu);
    return [
      ...this.processes.map((p, i) => ({
        name: p.name,
        cpuPercent: ((last.cpuMs[i]! - first.cpuMs[i]!) * 100) / wallMs,
        rssMiB: totalRss(p) / 1048576,
      })),
      {
        name: 'load client',
        cpuPercent:
          ((client.user + client.system) / 1000 / (performance.now() - this.self.at)) * 100,
        rssMiB: process.memoryUsage.rss() / 1048576,
      },
    ];
  }
}
