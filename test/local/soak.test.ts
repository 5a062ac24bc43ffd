// The short version of `npm run soak`: mixed traffic between two datacenters while receivers
// move between the three router nodes (half by "newest wins", half by logging out and in)
// and the configuration changes. Every message must be delivered once or answered with an
// error, memory must not grow, and the routers' descriptors must be back once all leave.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PG_ADMIN_URL } from '../support/database';

const exec = promisify(execFile);
const SOAK = join(__dirname, '..', '..', 'dist/scripts/soak.js');

interface SoakLine {
  readonly sent: number;
  readonly delivered: number;
  readonly errored: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly moves: number;
  readonly revisions: number;
  readonly fds: { node: string; before: number; after: number }[];
  readonly problems: string[];
}

describe('npm run soak (short)', () => {
  it(
    'balances its books while users move and the configuration changes',
    { timeout: 180_000 },
    async () => {
      const { stdout } = await exec(
        process.execPath,
        [
          SOAK,
          ...['--duration', '20', '--pairs', '8', '--rate', '160'],
          ...['--move-every', '1', '--config-every', '7'],
        ],
        { env: { ...process.env, PG_ADMIN_URL }, timeout: 170_000 },
      ).catch((error: { stdout?: string; message: string }) => {
        throw new Error(`soak failed: ${error.message}\n${error.stdout ?? ''}`);
      });
      const line = stdout.split('\n').find((l) => l.startsWith('{"soak"'));
      expect(line, stdout).toBeDefined();
      const result = JSON.parse(line!) as SoakLine;
      expect(result.problems, stdout).toEqual([]);
      expect(result.sent).toBeGreaterThan(2_500);
      expect(result.delivered + result.errored).toBe(result.sent);
      expect([result.lost, result.duplicated]).toEqual([0, 0]);
      // Moves are short gaps well inside the bounce budget: errors would mean a lost route.
      expect(result.errored, stdout).toBeLessThanOrEqual(result.sent / 100);
      expect(result.moves).toBeGreaterThanOrEqual(15);
      expect(result.revisions).toBeGreaterThanOrEqual(2);
      expect(result.fds.map((f) => f.node)).toEqual(['dc1-a', 'dc1-b', 'dc2-a']);
    },
  );
});
