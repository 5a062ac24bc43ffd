// The load itself: logs in sessions, then runs chat traffic from sender i to receiver i and
// checks it. Each message's body is "<pair> <seq> <sent-at-ms>", so the receiving side
// measures latency in this process's clock and finds loss, duplicates and reordering without
// any bookkeeping on the wire. Two shapes: a window (each sender keeps `window` messages in
// flight, the most a server can carry) and a steady rate (open loop, every millisecond).
import { RawXmppSession, type XmppAccount, type XmppTarget } from './raw-xmpp';
import { summarise, type Summary } from './stats';

export interface LoginResult {
  readonly sessions: RawXmppSession[];
  readonly elapsedMs: number;
  readonly perSecond: number;
}

/** Logs in every account against its target, `concurrency` logins in flight at a time. */
export async function loginAll(
  accounts: readonly { target: XmppTarget; account: XmppAccount }[],
  options: { concurrency: number; presence: boolean; signal: AbortSignal },
): Promise<LoginResult> {
  const sessions = accounts.map(({ target, account }) => new RawXmppSession(target, account));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < sessions.length && !options.signal.aborted) {
      await sessions[next++]!.login({ presence: options.presence });
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, sessions.length) }, worker),
    );
  } catch (error) {
    for (const session of sessions) session.close();
    throw error;
  }
  const elapsedMs = performance.now() - started;
  return { sessions, elapsedMs, perSecond: (sessions.length * 1000) / elapsedMs };
}

export interface LoadOptions {
  /** 0: window mode (as fast as the servers go); N: N messages/s over all senders. */
  readonly rate: number;
  readonly window: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly drainTimeoutS: number;
}

export interface LoadResult {
  readonly mode: 'max' | 'steady';
  readonly durationS: number;
  /** Messages received in the measured window, per second. */
  readonly messagesPerSecond: number;
  readonly latencyMs: Summary | null;
  /** Messages received in each second of the measured window. */
  readonly perSecond: Summary | null;
  readonly sent: number;
  readonly delivered: number;
  /** Sent, then neither delivered nor answered with an error before the drain timeout. */
  readonly lost: number;
  readonly errored: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  /** Steady mode: sends skipped because a sender already had 10,000 in flight. */
  readonly skipped: number;
  /** Stanzas that were not ours (no parsable body). */
  readonly unexpected: number;
  /** The first few error answers, as received. */
  readonly errorSamples: string[];
  readonly sessionsClosed: number;
}

const STEADY_MAX_IN_FLIGHT = 10_000;

/** Per pair: what went out, what came back. */
class Pair {
  nextSeq = 0;
  inFlight = 0;
  nextExpected = 0;
  private seen = new Uint8Array(1024);

  /** False when this sequence number was already delivered or answered. */
  mark(seq: number): boolean {
    if (seq >= this.seen.length * 8) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, (seq >> 3) + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    const bit = 1 << (seq & 7);
    if (this.seen[seq >> 3]! & bit) return false;
    this.seen[seq >> 3]! |= bit;
    return true;
  }
}

class Latencies {
  values = new Float64Array(1 << 16);
  count = 0;

  add(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }
}

/**
 * Runs traffic from senders[i] to receivers[i] for warm-up + duration, then stops sending and
 * waits (up to the drain timeout) for everything in flight. `onWindow` marks the measured
 * window's start and end (the caller samples servers' CPU there).
 */
export async function runLoad(
  senders: readonly RawXmppSession[],
  receivers: readonly RawXmppSession[],
  options: LoadOptions,
  signal: AbortSignal,
  onWindow: (edge: 'start' | 'end') => void,
): Promise<LoadResult> {
  const pairs = senders.map(() => new Pair());
  const latencies = new Latencies();
  const deliveredPerSecond: number[] = [];
  let sending = true;
  let sent = 0;
  let delivered = 0;
  let windowDelivered = 0;
  let errored = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let unexpected = 0;
  let skipped = 0;
  const errorSamples: string[] = [];
  const begin = performance.now();
  const windowStart = begin + options.warmupS * 1000;
  const windowEnd = windowStart + options.durationS * 1000;
  const targets = receivers.map((r) => r.jid);

  const sendOne = (index: number) => {
    const pair = pairs[index]!;
    const seq = pair.nextSeq++;
    pair.inFlight++;
    sent++;
    senders[index]!.send(
      `<message to='${targets[index]}' type='chat' id='m${seq}'><body>${index} ${seq} ${performance
        .now()
        .toFixed(3)}</body></message>`,
    );
  };
  const topUp = (index: number) => {
    const pair = pairs[index]!;
    while (sending && pair.inFlight < options.window) sendOne(index);
  };

  // Parses "<pair> <seq> <sent-at>"; null when the body is not one of ours.
  const parse = (body: string): [number, number, number] | null => {
    const a = body.indexOf(' ');
    const b = body.indexOf(' ', a + 1);
    if (a <= 0 || b <= a) return null;
    const index = Number(body.slice(0, a));
    const seq = Number(body.slice(a + 1, b));
    const at = Number(body.slice(b + 1));
    if (!pairs[index] || !Number.isInteger(seq) || !Number.isFinite(at)) return null;
    return [index, seq, at];
  };

  let settle: (() => void) | null = null;
  const settled = () => {
    if (settle && !sending && pairs.every((p) => p.inFlight === 0)) settle();
  };

  receivers.forEach((receiver, own) => {
    receiver.listen((body, error) => {
      const parsed = error ? null : parse(body);
      if (!parsed || parsed[0] !== own) {
        unexpected++;
        return;
      }
      const [index, seq, at] = parsed;
      const pair = pairs[index]!;
      if (!pair.mark(seq)) {
        duplicated++;
        return;
      }
      if (seq < pair.nextExpected) outOfOrder++;
      pair.nextExpected = Math.max(pair.nextExpected, seq + 1);
      pair.inFlight--;
      delivered++;
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) {
        windowDelivered++;
        const second = Math.floor((now - windowStart) / 1000);
        deliveredPerSecond[second] = (deliveredPerSecond[second] ?? 0) + 1;
      }
      if (at >= windowStart && at < windowEnd) latencies.add(now - at);
      if (options.rate === 0) topUp(index);
      else if (settle) settled();
    });
  });
  senders.forEach((sender, own) => {
    sender.listen((body, error) => {
      const parsed = error ? parse(body) : null;
      if (!parsed || parsed[0] !== own) {
        unexpected++;
        return;
      }
      const pair = pairs[parsed[0]]!;
      if (!pair.mark(parsed[1])) {
        duplicated++;
        return;
      }
      pair.inFlight--;
      errored++;
      if (errorSamples.length < 3) errorSamples.push(error!);
      if (options.rate === 0) topUp(parsed[0]);
      else if (settle) settled();
    });
  });

  let ticker: NodeJS.Timeout | null = null;
  if (options.rate === 0) {
    for (let i = 0; i < pairs.length; i++) topUp(i);
  } else {
    let scheduled = 0;
    let next = 0;
    ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - begin) * options.rate) / 1000);
      for (; scheduled < due; scheduled++) {
        const index = next;
        next = (next + 1) % pairs.length;
        if (pairs[index]!.inFlight >= STEADY_MAX_IN_FLIGHT) skipped++;
        else sendOne(index);
      }
    }, 1);
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  await sleep(Math.max(0, windowStart - performance.now()));
  onWindow('start');
  await sleep(Math.max(0, windowEnd - performance.now()));
  onWindow('end');
  sending = false;
  if (ticker) clearInterval(ticker);

  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, options.drainTimeoutS * 1000);
    function done() {
      clearTimeout(timer);
      settle = null;
      resolve();
    }
    settle = done;
    settled();
    // Window mode settles from topUp's callers; check periodically as well.
    const poll = setInterval(() => {
      if (!settle) clearInterval(poll);
      else settled();
    }, 20);
  });

  let lost = 0;
  for (const pair of pairs) lost += pair.inFlight;
  const perSecond = deliveredPerSecond.slice(0, Math.floor(options.durationS));
  return {
    mode: options.rate === 0 ? 'max' : 'steady',
    durationS: options.durationS,
    messagesPerSecond: windowDelivered / options.durationS,
    latencyMs: summarise(latencies.values.subarray(0, latencies.count)),
    perSecond: summarise(Float64Array.from(perSecond, (v) => v ?? 0)),
    sent,
    delivered,
    lost,
    errored,
    duplicated,
    outOfOrder,
    skipped,
    unexpected,
    errorSamples,
    sessionsClosed: [...senders, ...receivers].filter((s) => s.closed).length,
  };
}
