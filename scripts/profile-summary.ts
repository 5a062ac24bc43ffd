// `node dist/scripts/profile-summary.js FILE.cpuprofile [--top 25] [--by function|file|category]`:
// where a process spent its CPU, from a V8 profile (bench --cpu-prof writes them). Self time
// per function, per source file or per category of a router's work, heaviest first, with the
// share of all non-idle samples. Categories leave out start-up (module loading).
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
const by = args.includes('--by') ? args[args.indexOf('--by') + 1] : 'function';

/** A router's work by what it is for; first match wins. */
const CATEGORIES: [string, RegExp][] = [
  [
    'start-up (module loading)',
    /node:internal\/(modules|url|deps\/cjs)|node:internal\/fs|realpath|wrapSafe|compileSourceTextModule|internalModuleStat|node:path/,
  ],
  ['garbage collection', /\(garbage collector\)/],
  [
    'socket reads and writes (system calls)',
    /writeUtf8String|writev|handleWriteReq|stream_base_commons|utf8Write|\(native\).*(read|write)|node:net|node:internal\/streams|_tls_wrap|node:tls/,
  ],
  [
    'XML parsing (c2s stream, interlink stanzas)',
    /ltx\/lib\/parsers|stream-parser|stanza-parser|ltx\/lib\/Parser/,
  ],
  ['XML serialising', /ltx\/lib\/(Element|escape)|RegExp: \[/],
  [
    'buffers and UTF-8 (frame payloads)',
    /node:buffer|node:internal\/buffer|isUtf8|utf8Slice|node:internal\/encoding/,
  ],
  ['JID parsing', /xmpp\/src\/jid/],
  ['interlink framing and links', /libs\/interlink|src\/interlink/],
  ['routing and per-sender ordering', /src\/routing|src\/bounce/],
  ['session table and caches', /session-table|lru-cache|local-delivery/],
  ['c2s sessions', /src\/c2s|src\/websocket/],
  ['metrics', /prom-client|src\/metrics/],
  ['Redis client', /ioredis|redis-parser/],
  ['promises and callbacks', /runMicrotasks|processTicksAndRejections|node:events|\(program\)/],
];
const categoryOf = (key: string) => CATEGORIES.find(([, test]) => test.test(key))?.[0] ?? 'other';
if (!file) {
  console.error('usage: profile-summary FILE.cpuprofile [--top 25] [--by function|file|category]');
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
  const full = `${functionName || '(anonymous)'}  ${short(url)}:${lineNumber + 1}`;
  const category = categoryOf(`${full} ${url}`);
  // `--by other`: the functions no category takes, to extend the list.
  if (by === 'other' && category !== 'other') return;
  const key = by === 'file' ? short(url) : by === 'category' ? category : full;
  if (key === 'start-up (module loading)') {
    total -= delta;
    return;
  }
  selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
});
const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
for (const [key, us] of rows) {
  console.log(
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`,
  );
}
