// `node dist/scripts/profile-summary.js FILE.cpuprofile [--top 25] [--by function|file]`:
// where a process spent its CPU, from a V8 profile (bench --cpu-prof writes them). Self time
// per function (or per source file), heaviest first, with the share of all non-idle samples.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const top = Number(args[args.indexOf('--top') + 1]) || 25;
const byFile = args.includes('--by') && args[args.indexOf('--by') + 1] === 'file';
if (!file) {
  console.error('usage: profile-summary FILE.cpuprofile [--top 25] [--by function|file]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
let total = 0;
let idle = 0;
const short = (url: string) => {
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 13);
  return url ? path.relative(process.cwd(), url.replace(/^file:\/\//, '')) : '(native)';
};
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(program)') {
    idle += functionName === '(idle)' ? delta : 0;
    if (functionName === '(idle)') return;
  }
  total += delta;
  const key = byFile
    ? short(url)
    : `${functionName || '(anonymous)'}  ${short(url)}:${lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
});
const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
for (const [key, us] of rows) {
  console.log(
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`,
  );
}
