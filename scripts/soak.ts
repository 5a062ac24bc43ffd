// `npm run soak`: Meridian under mixed traffic for a long time while users move between
// datacenters and the configuration changes, then the books must balance.
//
//   npm run soak -- [--duration 600] [--pairs 50] [--rate 500] [--move-every 2]
//                   [--config-every 60] [--drain-timeout 20]
//
// It starts the local installation (as npm run bench does: its own database, redis-server,
// state folder and ports). Pair i: sender s<i> and receiver r<i>; even pairs send from dc1 to
// dc2, odd pairs from dc2 to dc1, all at a steady total rate to the receiver's full JID.
// Every --move-every seconds one receiver moves to another router node (dc1-a, dc1-b, dc2-a in
// turn): either it logs in at the new node first, so the old session is closed by "newest
// wins" (conflict), or it logs out first and back in, leaving a gap that the bounce queue
// must cover. Every --config-every seconds a new revision changes bounce and cache settings.
// At the end: every message sent was delivered (once) or answered with an error; the
// routers' resident memory did not keep growing; their open file descriptors are back where
// they were once all sessions are gone. Prints a table and one JSON line; exits 1 otherwise.
import { readdirSync } from 'node:fs';
import { Flags, runBenchmark, type Cleanup } from './bench-support';
import { meridianUnderTest, type MeridianUnderTest } from './bench/meridian';
import { RawXmppSession, type XmppTarget } from './bench/raw-xmpp';
import { table } from './bench/report';
import { rssBytes } from './bench/stats';

interface Options {
  readonly durationS: number;
  readonly pairs: number;
  readonly rate: number;
  readonly moveEveryS: number;
  readonly configEveryS: number;
  readonly drainTimeoutS: number;
}

const USAGE =
  'usage: npm run soak -- [--duration 600] [--pairs 50] [--rate 500] [--move-every 2]\n' +
  '         [--config-every 60] [--drain-timeout 20]';

function parse(argv: string[]): Options {
  const flags = new Flags(argv);
  const options: Options = {
    durationS: flags.number('duration', 600, 5),
    pairs: flags.number('pairs', 50, 2),
    rate: flags.number('rate', 500, 1),
    moveEveryS: flags.number('move-every', 2, 0.2, false),
    configEveryS: flags.number('config-every', 60, 1, false),
    drainTimeoutS: flags.number('drain-timeout', 20, 1),
  };
  flags.done();
  return options;
}

const log = (line: string) =>
  console.log(`soak: ${new Date().toISOString().slice(11, 19)} ${line}`);
const NODES = ['dc1-a', 'dc1-b', 'dc2-a'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Per pair: sequence numbers sent, and what became of each. */
class Books {
  sent = 0;
  delivered = 0;
  errored = 0;
  duplicated = 0;
  outOfOrder = 0;
  private readonly seen: Uint8Array[];
  private readonly highest: Int32Array;
  readonly nextSeq: Int32Array;
  /** Send time of each message (ms since the run began), to explain any that go missing. */
  private readonly sentAt: Float64Array[];

  constructor(pairs: number) {
    this.sentAt = Array.from({ length: pairs }, () => new Float64Array(1024));
    this.seen = Array.from({ length: pairs }, () => new Uint8Array(1024));
    this.highest = new Int32Array(pairs).fill(-1);
    this.nextSeq = new Int32Array(pairs);
  }

  /** False when this message was already delivered or answered. */
  private mark(pair: number, seq: number): boolean {
    let seen = this.seen[pair]!;
    if (seq >= seen.length * 8) {
      const grown = new Uint8Array(Math.max(seen.length * 2, (seq >> 3) + 1));
      grown.set(seen);
      this.seen[pair] = seen = grown;
    }
    const bit = 1 << (seq & 7);
    if (seen[seq >> 3]! & bit) return false;
    seen[seq >> 3]! |= bit;
    return true;
  }

  deliver(pair: number, seq: number): void {
    if (!this.mark(pair, seq)) {
      this.duplicated++;
      return;
    }
    if (seq < this.highest[pair]!) this.outOfOrder++;
    this.highest[pair] = Math.max(this.highest[pair]!, seq);
    this.delivered++;
  }

  /** Per pair: send time of the first and last message answered with an error. */
  readonly errorSpans = new Map<number, [number, number, number]>();

  error(pair: number, seq: number): void {
    if (!this.mark(pair, seq)) {
      this.duplicated++;
      return;
    }
    this.errored++;
    const at = this.sentAt[pair]![seq]!;
    const span = this.errorSpans.get(pair);
    if (!span) this.errorSpans.set(pair, [at, at, 1]);
    else {
      span[0] = Math.min(span[0], at);
      span[1] = Math.max(span[1], at);
      span[2]++;
    }
  }

  get outstanding(): number {
    return this.sent - this.delivered - this.errored;
  }

  recordSend(pair: number, seq: number, at: number): void {
    let times = this.sentAt[pair]!;
    if (seq >= times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      this.sentAt[pair] = times = grown;
    }
    times[seq] = at;
  }

  /** Messages neither delivered nor answered: [pair, seq, sent at ms]. */
  missing(limit: number): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let pair = 0; pair < this.nextSeq.length && out.length < limit; pair++) {
      const seen = this.seen[pair]!;
      for (let seq = 0; seq < this.nextSeq[pair]! && out.length < limit; seq++) {
        if (!(seen[seq >> 3]! & (1 << (seq & 7)))) out.push([pair, seq, this.sentAt[pair]![seq]!]);
      }
    }
    return out;
  }
}

/** "<pair> <seq>" from a message body; null when it is not one of ours. */
function parseBody(body: string, pairs: number): [number, number] | null {
  const space = body.indexOf(' ');
  const pair = Number(body.slice(0, space));
  const seq = Number(body.slice(space + 1));
  if (space <= 0 || !Number.isInteger(pair) || pair < 0 || pair >= pairs) return null;
  return Number.isInteger(seq) && seq >= 0 ? [pair, seq] : null;
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

async function run(options: Options, cleanup: Cleanup, stop: AbortSignal): Promise<boolean> {
  const meridian = await meridianUnderTest({ attach: false, env: {}, log }, cleanup);
  const routers = meridian.installation.routers.filter((r) => r.pid !== null);
  const fdsBefore = routers.map((r) => openFds(r.pid!));
  const books = new Books(options.pairs);
  let unexpected = 0;
  const errorSamples: string[] = [];

  const target = (node: string): XmppTarget => meridian.target(node);
  const session = async (localpart: string, node: string) => {
    const s = new RawXmppSession(target(node), {
      localpart,
      password: await meridian.password(localpart),
      resource: 'soak',
    });
    await s.login({ presence: true });
    return s;
  };
  const receiverHandler = (pair: number) => (body: string, error: string | null) => {
    const parsed = error ? null : parseBody(body, options.pairs);
    if (!parsed || parsed[0] !== pair) unexpected++;
    else books.deliver(parsed[0], parsed[1]);
  };
  const senderHandler = (pair: number) => (body: string, error: string | null) => {
    const parsed = error ? parseBody(body, options.pairs) : null;
    if (!parsed || parsed[0] !== pair) {
      unexpected++;
      return;
    }
    books.error(parsed[0], parsed[1]);
    if (errorSamples.length < 3) errorSamples.push(error!);
  };

  // Even pairs: dc1 -> dc2; odd pairs: dc2 -> dc1.
  const home = (pair: number) => (pair % 2 === 0 ? 'dc1-a' : 'dc2-a');
  const away = (pair: number) => (pair % 2 === 0 ? 'dc2-a' : 'dc1-a');
  const senders = await Promise.all(
    Array.from({ length: options.pairs }, (_, i) => session(`s${i}`, home(i))),
  );
  const receivers = await Promise.all(
    Array.from({ length: options.pairs }, (_, i) => session(`r${i}`, away(i))),
  );
  const receiverNode = Array.from({ length: options.pairs }, (_, i) => away(i) as string);
  // Sessions replaced by a move stay open until the server closes them, still counting.
  const retired: RawXmppSession[] = [];
  senders.forEach((s, i) => s.listen(senderHandler(i)));
  receivers.forEach((s, i) => s.listen(receiverHandler(i)));
  const targets = receivers.map((r) => r.jid);
  log(`${options.pairs * 2} sessions logged in; ${options.rate} msg/s for ${options.durationS} s`);

  const begin = performance.now();
  const endAt = begin + options.durationS * 1000;
  let sending = true;
  let scheduled = 0;
  let next = 0;
  const ticker = setInterval(() => {
    if (!sending) return;
    const due = Math.floor(((performance.now() - begin) * options.rate) / 1000);
    for (; scheduled < due; scheduled++) {
      const pair = next;
      next = (next + 1) % options.pairs;
      const seq = books.nextSeq[pair]!++;
      books.sent++;
      books.recordSend(pair, seq, performance.now() - begin);
      senders[pair]!.send(
        `<message to='${targets[pair]}' type='chat' id='m${seq}'><body>${pair} ${seq}</body></message>`,
      );
    }
  }, 1);

  // Moves: one receiver at a time, round robin over pairs, alternating conflict and gap.
  let moves = 0;
  const moveFailures: string[] = [];
  const moveLog: string[] = [];
  const mover = (async () => {
    let pair = 0;
    while (performance.now() + options.moveEveryS * 1000 < endAt && !stop.aborted) {
      await sleep(options.moveEveryS * 1000);
      const from = receiverNode[pair]!;
      const to = NODES[(NODES.indexOf(from as (typeof NODES)[number]) + 1) % NODES.length]!;
      const old = receivers[pair]!;
      const startedAt = performance.now() - begin;
      try {
        if (moves % 2 === 1) await old.end();
        const fresh = await session(`r${pair}`, to);
        fresh.listen(receiverHandler(pair));
        receivers[pair] = fresh;
        receiverNode[pair] = to;
        if (moves % 2 === 0) retired.push(old);
        moveLog.push(
          `${startedAt.toFixed(0)}-${(performance.now() - begin).toFixed(0)} ms: r${pair} ` +
            `${from} -> ${to} (${moves % 2 === 0 ? 'newest wins' : 'logout, login'})`,
        );
        moves++;
      } catch (error) {
        moveFailures.push(`r${pair} ${from} -> ${to}: ${(error as Error).message}`);
      }
      pair = (pair + 1) % options.pairs;
    }
  })();

  // Configuration changes: bounce and cache settings flip between two values.
  let revisions = 0;
  const configurer = (async () => {
    while (performance.now() + options.configEveryS * 1000 < endAt && !stop.aborted) {
      await sleep(options.configEveryS * 1000);
      await changeConfig(meridian, revisions++);
    }
  })();

  // Memory: each router's RSS every 5 s.
  const rss: number[][] = routers.map(() => []);
  const sampler = setInterval(() => {
    routers.forEach((r, i) => rss[i]!.push(rssBytes(r.pid!)));
  }, 5_000);

  let lastReport = performance.now();
  while (performance.now() < endAt && !stop.aborted) {
    await sleep(250);
    if (performance.now() - lastReport >= 30_000) {
      lastReport = performance.now();
      log(
        `sent ${books.sent}, delivered ${books.delivered}, errored ${books.errored}, ` +
          `in flight ${books.outstanding}, moves ${moves}, revisions ${revisions}`,
      );
    }
  }
  sending = false;
  clearInterval(ticker);
  await Promise.all([mover, configurer]);
  const drainDeadline = performance.now() + options.drainTimeoutS * 1000;
  while (books.outstanding > 0 && performance.now() < drainDeadline) await sleep(50);
  clearInterval(sampler);

  // Everyone leaves; then the routers' descriptors must be back where they started.
  await Promise.all(
    [...senders, ...receivers, ...retired].map((s) => s.end().catch(() => undefined)),
  );
  await sleep(3_000);
  const fdsAfter = routers.map((r) => openFds(r.pid!));

  const memory = routers.map((r, i) => {
    const samples = rss[i]!;
    // Growth from the first third of the run to the last third, in MiB.
    const third = Math.max(1, Math.floor(samples.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const early = mean(samples.slice(0, third));
    const late = mean(samples.slice(-third));
    return {
      node: r.node,
      earlyMiB: early / 1048576,
      lateMiB: late / 1048576,
      growthMiB: (late - early) / 1048576,
    };
  });
  const fds = routers.map((r, i) => ({ node: r.node, before: fdsBefore[i]!, after: fdsAfter[i]! }));
  const lost = books.outstanding;
  for (const [pair, [first, last, count]] of books.errorSpans) {
    const moved = moveLog.filter((line) => line.includes(`: r${pair} `));
    console.log(
      `errors: pair ${pair}: ${count} sent from ${first.toFixed(0)} to ${last.toFixed(0)} ms; ` +
        `moves of r${pair}: ${moved.join('; ')}`,
    );
  }
  const missing = books.missing(20);
  for (const [pair, seq, at] of missing) {
    const moved = moveLog.filter((line) => line.includes(`: r${pair} `)).slice(-3);
    console.log(
      `missing: pair ${pair} seq ${seq} sent at ${at.toFixed(0)} ms; moves of r${pair}: ${moved.join('; ')}`,
    );
  }
  const problems: string[] = [];
  if (lost !== 0) problems.push(`${lost} messages neither delivered nor answered with an error`);
  if (books.duplicated) problems.push(`${books.duplicated} duplicated`);
  if (unexpected) problems.push(`${unexpected} unexpected stanzas`);
  if (moveFailures.length) problems.push(`${moveFailures.length} moves failed: ${moveFailures[0]}`);
  for (const m of memory) {
    // Flat: no more than 25% above the early level and 48 MiB (a long run's heap settles).
    if (m.growthMiB > Math.max(48, m.earlyMiB * 0.25)) {
      problems.push(`${m.node} memory grew ${m.growthMiB.toFixed(0)} MiB`);
    }
  }
  for (const f of fds) {
    if (f.after > f.before + 5) problems.push(`${f.node} has ${f.after - f.before} more open fds`);
  }

  console.log('');
  console.log(
    table(
      ['sent', 'delivered', 'errored', 'lost', 'duplicated', 'reordered', 'moves', 'revisions'],
      [
        [
          books.sent,
          books.delivered,
          books.errored,
          lost,
          books.duplicated,
          books.outOfOrder,
          moves,
          revisions,
        ].map(String),
      ],
    ),
  );
  console.log('');
  console.log(
    table(
      ['node', 'RSS early MiB', 'RSS late MiB', 'fds before', 'fds after'],
      routers.map((r, i) => [
        r.node,
        memory[i]!.earlyMiB.toFixed(0),
        memory[i]!.lateMiB.toFixed(0),
        String(fds[i]!.before),
        String(fds[i]!.after),
      ]),
    ),
  );
  if (errorSamples.length) console.log(`\nfirst error answer: ${errorSamples[0]}`);
  for (const problem of problems) console.log(`PROBLEM: ${problem}`);
  console.log(
    JSON.stringify({
      soak: 'meridian',
      options,
      sent: books.sent,
      delivered: books.delivered,
      errored: books.errored,
      lost,
      duplicated: books.duplicated,
      outOfOrder: books.outOfOrder,
      unexpected,
      moves,
      revisions,
      memory,
      fds,
      errorSamples,
      missing,
      problems,
    }),
  );
  return problems.length === 0;
}

async function changeConfig(meridian: MeridianUnderTest, round: number): Promise<void> {
  const current = await meridian.api('/v1/config');
  if (!current.ok) throw new Error(`GET /v1/config: ${current.status}`);
  const config = (await current.json()) as Record<string, Record<string, unknown>>;
  const flip = round % 2 === 0;
  const updated = {
    ...config,
    bounce: { ...config.bounce, resendAfterMs: flip ? 250 : 200 },
    cache: { ...config.cache, jidLifetimeS: flip ? 4 : 5 },
  };
  const answer = await meridian.api(`/v1/config?comment=soak%20round%20${round}`, {
    method: 'PUT',
    body: JSON.stringify(updated),
  });
  if (!answer.ok) throw new Error(`PUT /v1/config: ${answer.status} ${await answer.text()}`);
  log(`revision: bounce.resendAfterMs ${flip ? 250 : 200}, cache.jidLifetimeS ${flip ? 4 : 5}`);
}

runBenchmark({ usage: USAGE, parse, run });
