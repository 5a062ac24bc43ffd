// `npm run bench` end to end at a tiny size, so the benchmark keeps working: it starts its own
// local installation (database, redis-server, state folder, ports), logs idle sessions in,
// creates dynamic domains and sees them live on every router, runs chat traffic in two
// scenarios at max and steady rate, prints its JSON line with nothing lost, and leaves nothing
// behind (no process, no database).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { PG_ADMIN_URL } from '../support/database';

const exec = promisify(execFile);
const BENCH = join(__dirname, '..', '..', 'dist/scripts/bench.js');

interface BenchLine {
  readonly bench: string;
  readonly idle: { sessions: number; loginsPerSecond: number; bytesPerSession: number }[];
  readonly domains: { count: number; sampled: number; notLive: number } | null;
  readonly runs: {
    scenario: string;
    rate: number;
    sent: number;
    delivered: number;
    lost: number;
    duplicated: number;
    outOfOrder: number;
    errored: number;
    messagesPerSecond: number;
    latencyMs: { p99: number } | null;
    usage: { name: string; cpuPercent: number }[];
  }[];
}

describe('npm run bench', () => {
  it('measures a small load end to end and cleans up', { timeout: 180_000 }, async () => {
    const { stdout } = await exec(
      process.execPath,
      [
        BENCH,
        ...['--mode', 'local,cross-dc', '--rate', '0,200', '--pairs', '4', '--window', '4'],
        ...['--duration', '1', '--warmup', '0', '--idle-sessions', '40', '--domains', '101'],
      ],
      { env: { ...process.env, PG_ADMIN_URL }, timeout: 170_000 },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('{"bench"'));
    expect(line, stdout).toBeDefined();
    const result = JSON.parse(line!) as BenchLine;
    expect(result.bench).toBe('meridian');
    expect(result.idle).toHaveLength(1);
    expect(result.idle[0]!.sessions).toBe(40);
    expect(result.idle[0]!.loginsPerSecond).toBeGreaterThan(0);
    expect(result.domains).toMatchObject({ count: 101, sampled: 2, notLive: 0 });
    expect(result.runs.map((r) => [r.scenario, r.rate])).toEqual([
      ['local', 0],
      ['local', 200],
      ['cross-dc', 0],
      ['cross-dc', 200],
    ]);
    for (const run of result.runs) {
      expect(run.delivered).toBe(run.sent);
      expect(run.sent).toBeGreaterThan(0);
      expect([run.lost, run.duplicated, run.outOfOrder, run.errored]).toEqual([0, 0, 0, 0]);
      expect(run.latencyMs?.p99).toBeGreaterThan(0);
      expect(run.usage.map((u) => u.name)).toContain('dc1-a');
    }
    // The routers of the second scenario did the work.
    const crossDc = result.runs.find((r) => r.scenario === 'cross-dc' && r.rate === 0)!;
    expect(crossDc.usage.find((u) => u.name === 'dc2-a')!.cpuPercent).toBeGreaterThan(0);

    // Its database is gone; its processes were children and exited with it.
    const database = /database (meridian_bench_\d+)/.exec(stdout)?.[1];
    expect(database, stdout).toBeDefined();
    const client = new Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
