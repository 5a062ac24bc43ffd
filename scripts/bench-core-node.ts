// One router of the core benchmark, in a process of its own (one event loop per router), started
// by bench-core.ts with the router's environment. It plugs in-process sessions into the
// local-delivery port: as sender it makes them send numbered, timestamped chat messages through
// Router.route(); as receiver it checks each message's sequence and records its latency. It
// takes its orders over the IPC channel and exits when that channel closes.
import type { INestApplication } from '@nestjs/common';
import { Element } from 'ltx';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { jidToString, parseJid, type Jid } from '#xmpp';
import { startRouter } from '../apps/router/src/boot/start-router';
import { loadRouterEnv } from '../apps/router/src/env/router-env';
import type { LocalSession } from '../apps/router/src/local-delivery/local-session';
import { LocalSessions } from '../apps/router/src/local-delivery/local-sessions';
import { Router } from '../apps/router/src/routing/router.service';
import {
  epochMs,
  receiverJid,
  senderJid,
  summariseLatency,
  type AckMessage,
  type BenchCommand,
  type CommandEnvelope,
  type NodeMessage,
  type ReceiverResult,
  type SenderResult,
  type UsageSnapshot,
} from './bench-core-protocol';

/** Router counters reported with each usage snapshot (summed over their labels). */
const REPORTED_METRICS = [
  'meridian_gd_outgoing_messages_total',
  'meridian_gd_incoming_messages_total',
  'meridian_gd_outgoing_established_total',
  'meridian_gd_outgoing_errored_total',
  'meridian_gd_incoming_errored_total',
  'meridian_gd_mapping_fetches_total',
  'meridian_gd_mapping_cache_misses_total',
  'meridian_gd_bounce_failures_total',
  'meridian_gd_bounce_queue_size',
  'meridian_gd_stop_ttl_zero_total',
];

function post(message: NodeMessage): void {
  if (process.connected) process.send!(message);
}

function mustParse(raw: string): Jid {
  const parsed = parseJid(raw);
  if (!parsed) throw new Error(`bad JID ${raw}`);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Receiving side.

/** A Uint8Array / Float64Array that grows as needed. */
class Growable<T extends Uint8Array | Float64Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (size: number) => T,
  ) {}

  ensure(size: number): void {
    if (size <= this.data.length) return;
    const next = this.make(Math.max(size, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }

  push(value: number): void {
    this.ensure(this.length + 1);
    this.data[this.length++] = value;
  }
}

class ReceiverPhase {
  readonly seen: Growable<Uint8Array>[];
  readonly unique: number[];
  readonly maxSeq: number[];
  readonly latencies = new Growable(new Float64Array(1 << 16), (n) => new Float64Array(n));
  readonly perSecond: number[] = [];
  duplicates = 0;
  outOfOrder = 0;
  misrouted = 0;
  malformed = 0;
  firstAt = 0;
  lastAt = 0;
  private readonly dirty = new Set<number>();
  private flushScheduled = false;

  constructor(
    readonly phase: number,
    readonly startAt: number,
    private readonly ackEveryMs: number,
    pairs: number,
  ) {
    this.seen = Array.from(
      { length: pairs },
      () => new Growable(new Uint8Array(1024), (n) => new Uint8Array(n)),
    );
    this.unique = new Array<number>(pairs).fill(0);
    this.maxSeq = new Array<number>(pairs).fill(0);
  }

  receive(pair: number, stanza: Element): void {
    const now = epochMs();
    if (stanza.attrs.from !== senderJid(pair)) {
      this.misrouted++;
      return;
    }
    const [phase, seqText, sentText] = (stanza.getChildText('body') ?? '').split(' ');
    const seq = Number(seqText);
    const sentAt = Number(sentText);
    if (!Number.isInteger(seq) || seq < 1 || !Number.isFinite(sentAt)) {
      this.malformed++;
      return;
    }
    if (Number(phase) !== this.phase) {
      this.misrouted++;
      return;
    }
    const seen = this.seen[pair]!;
    seen.ensure(seq + 1);
    if (seen.data[seq]) {
      this.duplicates++;
      return;
    }
    seen.data[seq] = 1;
    if (seq < this.maxSeq[pair]!) this.outOfOrder++;
    else this.maxSeq[pair] = seq;
    this.unique[pair]!++;
    this.latencies.push(now - sentAt);
    if (this.firstAt === 0) this.firstAt = now;
    this.lastAt = now;
    const second = Math.max(0, Math.floor((now - this.startAt) / 1000));
    while (this.perSecond.length <= second) this.perSecond.push(0);
    this.perSecond[second]!++;
    this.dirty.add(pair);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.ackEveryMs > 0) setTimeout(() => this.flushAcks(), this.ackEveryMs);
      else setImmediate(() => this.flushAcks());
    }
  }

  /** One ack message per event-loop turn (or per ackEveryMs), whatever it received meanwhile. */
  private flushAcks(): void {
    this.flushScheduled = false;
    const acks: number[] = [];
    for (const pair of this.dirty) acks.push(pair, this.unique[pair]!);
    this.dirty.clear();
    const message: AckMessage = { t: 'ack', phase: this.phase, acks };
    post(message);
  }

  result(): ReceiverResult {
    return {
      unique: this.unique,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      misrouted: this.misrouted,
      malformed: this.malformed,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      perSecond: this.perSecond,
      latencyMs: summariseLatency(this.latencies.data.subarray(0, this.latencies.length)),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Sending side.

interface SenderRun {
  readonly phase: number;
  onAck(acks: readonly number[]): void;
  /** Stops sending and ends the phase now (the process is shutting down). */
  abort(): void;
}

class BenchNode {
  private readonly sessions: LocalSession[] = [];
  private role: 'sender' | 'receiver' | null = null;
  private pairs = 0;
  private receiving: ReceiverPhase | null = null;
  private readonly finished = new Map<number, ReceiverPhase>();
  private sending: SenderRun | null = null;
  private unexpected = 0;
  private readonly unexpectedSamples: string[] = [];
  private routeErrors = 0;
  private readonly registry: Registry;
  private readonly router: Router;
  private readonly localSessions: LocalSessions;

  constructor(app: INestApplication) {
    this.registry = app.get(Registry);
    this.router = app.get(Router);
    this.localSessions = app.get(LocalSessions);
  }

  async handle(command: BenchCommand): Promise<unknown> {
    switch (command.cmd) {
      case 'login':
        return this.login(command.role, command.pairs);
      case 'prepare':
        if (this.receiving) this.finished.set(this.receiving.phase, this.receiving);
        this.receiving = new ReceiverPhase(
          command.phase,
          command.startAt,
          command.ackEveryMs,
          this.pairs,
        );
        return null;
      case 'run':
        return this.run(command);
      case 'report': {
        const phase =
          this.receiving?.phase === command.phase
            ? this.receiving
            : this.finished.get(command.phase);
        if (!phase) throw new Error(`no phase ${command.phase} on this receiver`);
        return phase.result();
      }
      case 'usage':
        return this.usage();
      case 'stop':
        this.sending?.abort();
        return null; // answered, then the process shuts down (see main)
    }
  }

  onAck(message: AckMessage): void {
    if (this.sending?.phase === message.phase) this.sending.onAck(message.acks);
  }

  private async login(role: 'sender' | 'receiver', pairs: number): Promise<number> {
    if (this.role) throw new Error('sessions are already logged in');
    this.role = role;
    this.pairs = pairs;
    for (let pair = 0; pair < pairs; pair++) {
      const jid = mustParse(role === 'sender' ? senderJid(pair) : receiverJid(pair));
      this.sessions.push({
        jid,
        kind: 'internal',
        deliver: (stanza) => {
          if (role === 'receiver' && this.receiving) this.receiving.receive(pair, stanza);
          else this.noteUnexpected(stanza);
          return true;
        },
        close: (condition) =>
          this.noteUnexpected(new Element('closed', { jid: jidToString(jid), condition })),
      });
    }
    // Each registration writes the session table; a few at a time, as logins would come.
    for (let i = 0; i < this.sessions.length; i += 20) {
      await Promise.all(this.sessions.slice(i, i + 20).map((s) => this.localSessions.register(s)));
    }
    return this.sessions.length;
  }

  private noteUnexpected(stanza: Element): void {
    this.unexpected++;
    if (this.unexpectedSamples.length < 5) this.unexpectedSamples.push(stanza.toString());
  }

  private run(command: Extract<BenchCommand, { cmd: 'run' }>): Promise<SenderResult> {
    if (this.role !== 'sender') throw new Error('only the sender side runs phases');
    if (this.sending) throw new Error(`phase ${this.sending.phase} is still running`);
    const { phase, mode, window, rate, startAt, durationMs, drainTimeoutMs } = command;
    const pairs = this.pairs;
    const from = Array.from({ length: pairs }, (_, pair) => senderJid(pair));
    const to = Array.from({ length: pairs }, (_, pair) => receiverJid(pair));
    const sent = new Array<number>(pairs).fill(0);
    const acked = new Array<number>(pairs).fill(0);
    const unexpectedBefore = this.unexpected;
    let sending = false;
    let startedAt = 0;
    let stoppedAt = 0;
    let behindMaxMs = 0;
    let draining = false;
    const timers: NodeJS.Timeout[] = [];
    let resolveRun: (result: SenderResult) => void = () => undefined;
    const done = new Promise<SenderResult>((resolve) => (resolveRun = resolve));

    const send = (pair: number) => {
      const seq = ++sent[pair]!;
      const sentAt = epochMs();
      const stanza = new Element('message', {
        from: from[pair],
        to: to[pair],
        type: 'chat',
        id: `b${phase}-${pair}-${seq}`,
      });
      stanza.c('body').t(`${phase} ${seq} ${sentAt.toFixed(4)}`);
      this.router.route(stanza).catch(() => this.routeErrors++);
    };
    const topUp = (pair: number) => {
      while (sending && sent[pair]! - acked[pair]! < window) send(pair);
    };
    const allAcked = () => sent.every((count, pair) => acked[pair]! >= count);
    const finish = (drained: boolean) => {
      if (this.sending !== run) return;
      this.sending = null;
      sending = false;
      for (const timer of timers) clearTimeout(timer);
      resolveRun({
        sent,
        startedAt,
        stoppedAt: stoppedAt || epochMs(),
        drained,
        behindMaxMs,
        unexpected: this.unexpected - unexpectedBefore,
        unexpectedSamples: this.unexpectedSamples.slice(0, 5),
      });
    };
    const stop = () => {
      sending = false;
      stoppedAt = epochMs();
      if (allAcked()) return finish(true);
      draining = true;
      timers.push(setTimeout(() => finish(false), drainTimeoutMs));
    };
    const begin = () => {
      sending = true;
      startedAt = epochMs();
      if (mode === 'window') {
        for (let pair = 0; pair < pairs; pair++) topUp(pair);
        timers.push(setTimeout(stop, durationMs));
        return;
      }
      // Open loop: whatever is due by now goes out, round robin over the pairs.
      let total = 0;
      const endAt = startedAt + durationMs;
      const tick = setInterval(() => {
        const now = epochMs();
        const due = Math.floor(((Math.min(now, endAt) - startedAt) * rate) / 1000);
        // How late the oldest message due now is.
        if (due > total) {
          behindMaxMs = Math.max(behindMaxMs, now - startedAt - ((total + 1) * 1000) / rate);
        }
        while (total < due) send(total++ % pairs);
        if (now >= endAt) {
          clearInterval(tick);
          stop();
        }
      }, 1);
      timers.push(tick);
    };

    const run: SenderRun = {
      phase,
      onAck: (acks) => {
        for (let i = 0; i < acks.length; i += 2) {
          const pair = acks[i]!;
          if (acks[i + 1]! > acked[pair]!) acked[pair] = acks[i + 1]!;
          if (mode === 'window') topUp(pair);
        }
        if (draining && allAcked()) finish(true);
      },
      abort: () => finish(false),
    };
    this.sending = run;
    timers.push(setTimeout(begin, Math.max(0, startAt - epochMs())));
    return done;
  }

  private async usage(): Promise<UsageSnapshot> {
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const metrics: Record<string, number> = {};
    for (const metric of await this.registry.getMetricsAsJSON()) {
      if (!REPORTED_METRICS.includes(metric.name)) continue;
      metrics[metric.name] = metric.values.reduce((sum, v) => sum + v.value, 0);
    }
    metrics.route_errors = this.routeErrors;
    // Receivers: stanzas that arrived outside a phase (a late duplicate, say); senders: any.
    metrics.unexpected_stanzas = this.unexpected;
    return {
      at: epochMs(),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: process.memoryUsage().heapUsed,
      eluIdleMs: elu.idle,
      eluActiveMs: elu.active,
      bounced: this.router.bounced,
      metrics,
    };
  }
}

async function main(): Promise<void> {
  let app: INestApplication;
  try {
    app = await startRouter(loadRouterEnv());
  } catch (error) {
    post({ t: 'boot-failed', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  const node = new BenchNode(app);
  let stopping: Promise<void> | null = null;
  const shutdown = (code: number) => {
    stopping ??= (async () => {
      // Bounded: a router that does not close in time is not worth waiting for.
      const timer = setTimeout(() => process.exit(code || 1), 10_000);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
        // A normal exit, so that --cpu-prof writes its profile.
        process.exit(code);
      }
    })();
    return stopping;
  };
  // The orchestrator is gone (finished, interrupted or killed): so is this router.
  process.on('disconnect', () => void shutdown(0));
  process.on('message', (raw: unknown) => {
    const message = raw as AckMessage | CommandEnvelope;
    if ('t' in message) {
      node.onAck(message);
      return;
    }
    const { id, command } = message;
    node.handle(command).then(
      (result) => {
        post({ t: 'reply', id, ok: true, result });
        if (command.cmd === 'stop') void shutdown(0);
      },
      (error: unknown) =>
        post({
          t: 'reply',
          id,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  const { port } = app.getHttpServer().address() as { port: number };
  post({ t: 'ready', httpPort: port });
}

void main();
