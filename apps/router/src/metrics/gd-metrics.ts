// Every metric of MongooseIM's mod_global_distrib, under meridian_gd_* with Prometheus
// naming (counters end in _total, durations are histograms in seconds). `host` is the remote
// datacenter's localHost where the original metric has <host>.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

@Injectable()
export class GdMetrics {
  /** Stanzas sent to another datacenter or node over the interlink. */
  readonly outgoingMessages: Counter<'host'>;
  /** Time a stanza waited in an outgoing connection's queue before the socket took it. */
  readonly outgoingQueueTime: Histogram<'host'>;
  readonly outgoingEstablished: Counter<'host'>;
  readonly outgoingErrored: Counter<'host'>;
  readonly outgoingClosed: Counter<'host'>;
  /**
   * Frames a link lost before its peer acknowledged them, put back in the queue to be written
   * again (or routed again when their node is gone). Meridian's own; not in mod_global_distrib.
   */
  readonly outgoingRequeued: Counter<'host'>;
  /** Stanzas received over the interlink. */
  readonly incomingMessages: Counter<'host'>;
  /** From the sender's send time to receipt (clocks of both nodes; same host in tests). */
  readonly incomingTransferTime: Histogram<'host'>;
  readonly incomingEstablished: Counter<string>;
  /** First frame (the hello) received on an incoming connection. */
  readonly incomingFirstPacket: Counter<'host'>;
  readonly incomingErrored: Counter<string>;
  readonly incomingClosed: Counter<string>;
  /** Session-table lookups, and the ones that had to read Redis. */
  readonly mappingFetches: Counter<string>;
  readonly mappingCacheMisses: Counter<string>;
  readonly mappingFetchTime: Histogram<string>;
  /** TTL left on stanzas delivered locally after crossing datacenters. */
  readonly deliveredWithTtl: Histogram<string>;
  /** Stanzas that reached TTL 0 and were routed locally instead of forwarded. */
  readonly stopTtlZero: Counter<string>;
  readonly bounceQueueSize: Gauge<string>;
  /** Stanzas given up on (error to the sender, or dropped where no error may be sent). */
  readonly bounceFailures: Counter<'reason'>;

  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name: `meridian_gd_${name}`, help, labelNames, registers: [registry] });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name: `meridian_gd_${name}`, help, labelNames, buckets, registers: [registry] });

    this.outgoingMessages = counter('outgoing_messages_total', 'Stanzas sent over the interlink', ['host']);
    this.outgoingQueueTime = histogram(
      'outgoing_queue_seconds',
      'Time stanzas waited in an outgoing connection queue',
      ['host'],
      LATENCY_BUCKETS,
    );
    this.outgoingEstablished = counter('outgoing_established_total', 'Outgoing interlink connections established', ['host']);
    this.outgoingErrored = counter('outgoing_errored_total', 'Outgoing interlink connections that failed', ['host']);
    this.outgoingClosed = counter('outgoing_closed_total', 'Outgoing interlink connections closed', ['host']);
    this.outgoingRequeued = counter(
      'outgoing_requeued_total',
      'Frames a lost interlink had written but its peer had not acknowledged, queued again',
      ['host'],
    );
    this.incomingMessages = counter('incoming_messages_total', 'Stanzas received over the interlink', ['host']);
    this.incomingTransferTime = histogram(
      'incoming_transfer_seconds',
      'Time from send to receipt over the interlink',
      ['host'],
      LATENCY_BUCKETS,
    );
    this.incomingEstablished = counter('incoming_established_total', 'Incoming interlink connections accepted');
    this.incomingFirstPacket = counter('incoming_first_packet_total', 'Incoming interlink connections that sent their hello', ['host']);
    this.incomingErrored = counter('incoming_errored_total', 'Incoming interlink connections closed on an error');
    this.incomingClosed = counter('incoming_closed_total', 'Incoming interlink connections closed');
    this.mappingFetches = counter('mapping_fetches_total', 'Session-table lookups');
    this.mappingCacheMisses = counter('mapping_cache_misses_total', 'Session-table lookups that read Redis');
    this.mappingFetchTime = histogram('mapping_fetch_seconds', 'Time to read a mapping from Redis', [], LATENCY_BUCKETS);
    this.deliveredWithTtl = histogram(
      'delivered_with_ttl',
      'TTL left on stanzas delivered after crossing datacenters',
      [],
      [0, 1, 2, 3, 4, 5, 6, 8, 10, 16, 32, 64],
    );
    this.stopTtlZero = counter('stop_ttl_zero_total', 'Stanzas routed locally because their TTL reached 0');
    this.bounceQueueSize = new Gauge({
      name: 'meridian_gd_bounce_queue_size',
      help: 'Stanzas waiting for a route',
      registers: [registry],
    });
    this.bounceFailures = counter('bounce_failures_total', 'Stanzas given up on after bouncing', ['reason']);
  }
}
