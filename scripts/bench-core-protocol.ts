// What the core benchmark's orchestrator (bench-core.ts) and its router processes
// (bench-core-node.ts) say to each other over the IPC channel, and the helpers both use.
import { performance } from 'node:perf_hooks';
import { summarise, type Summary } from './bench/stats';

export const BENCH_DOMAIN = 'example.com';
export const BENCH_RESOURCE = 'bench';

/** Sender i (on dc1) talks to receiver i (on dc2) only. */
export const senderJid = (pair: number) => `s${pair}@${BENCH_DOMAIN}/${BENCH_RESOURCE}`;
export const receiverJid = (pair: number) => `r${pair}@${BENCH_DOMAIN}/${BENCH_RESOURCE}`;

/**
 * Milliseconds since the epoch, at sub-microsecond resolution. Both router processes run on
 * this host, so a send time taken in one is comparable with a receipt time taken in the other.
 */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export type PhaseMode = 'window' | 'rate';

/** Orchestrator -> router process: each carries an id that the reply echoes. */
export type BenchCommand =
  | { readonly cmd: 'login'; readonly role: 'sender' | 'receiver'; readonly pairs: number }
  | {
      readonly cmd: 'prepare';
      readonly phase: number;
      readonly startAt: number;
      /** How long the receiver gathers acks before it sends them (0: at the end of the turn). */
      readonly ackEveryMs: number;
    }
  | {
      readonly cmd: 'run';
      readonly phase: number;
      readonly mode: PhaseMode;
      /** In-flight bound per sender (window mode). */
      readonly window: number;
      /** Messages per second over all senders (rate mode). */
      readonly rate: number;
      readonly startAt: number;
      readonly durationMs: number;
      readonly drainTimeoutMs: number;
    }
  | { readonly cmd: 'report'; readonly phase: number }
  | { readonly cmd: 'usage' }
  | { readonly cmd: 'stop' };

export interface CommandEnvelope {
  readonly id: number;
  readonly command: BenchCommand;
}

/** Receiver -> orchestrator -> sender: per pair, how many distinct messages have arrived. */
export interface AckMessage {
  readonly t: 'ack';
  readonly phase: number;
  /** Flat [pair, count, pair, count, ...]. */
  readonly acks: number[];
}

export interface ReadyMessage {
  readonly t: 'ready';
  readonly httpPort: number;
}

export interface BootFailedMessage {
  readonly t: 'boot-failed';
  readonly error: string;
}

export interface ReplyMessage {
  readonly t: 'reply';
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export type NodeMessage = AckMessage | ReadyMessage | BootFailedMessage | ReplyMessage;

/** What a sender reports when a phase has run and drained. */
export interface SenderResult {
  /** Messages sent per pair (their last sequence number). */
  readonly sent: number[];
  readonly startedAt: number;
  /** When the last message was handed to the router. */
  readonly stoppedAt: number;
  /** Every message acknowledged by the receiver before the drain timeout. */
  readonly drained: boolean;
  /** Rate mode: the furthest the sender fell behind its schedule, in ms. */
  readonly behindMaxMs: number;
  /** Stanzas the sender sessions received (errors bounced back, for instance). */
  readonly unexpected: number;
  readonly unexpectedSamples: string[];
}

/** Send-to-receipt percentiles (the same summary every benchmark prints). */
export type LatencySummary = Summary;

/** What a receiver reports for a phase. */
export interface ReceiverResult {
  /** Distinct messages received per pair. */
  readonly unique: number[];
  readonly duplicates: number;
  /** Messages that arrived after one with a higher sequence number of the same pair. */
  readonly outOfOrder: number;
  /** Messages from another sender than the pair's, or from another phase. */
  readonly misrouted: number;
  readonly malformed: number;
  /** Receipt time of the first and last message of the phase (epoch ms). */
  readonly firstAt: number;
  readonly lastAt: number;
  /** Messages received in each second from the phase's start. */
  readonly perSecond: number[];
  /** Send-to-receipt time, ms. */
  readonly latencyMs: LatencySummary | null;
}

/** A router process's resource use and a few router counters, at one instant. */
export interface UsageSnapshot {
  readonly at: number;
  /** process.cpuUsage(), µs. */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  readonly maxRssBytes: number;
  readonly heapUsedBytes: number;
  /** performance.eventLoopUtilization(), cumulative, ms. */
  readonly eluIdleMs: number;
  readonly eluActiveMs: number;
  readonly bounced: number;
  readonly metrics: Record<string, number>;
}

export const summariseLatency = summarise;
