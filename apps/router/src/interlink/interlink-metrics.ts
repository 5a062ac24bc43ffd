// The meridian_gd_* metrics of one remote datacenter, resolved once per connection instead of
// looking the `host` label up for every stanza.
import type { Counter, Histogram } from 'prom-client';
import type { GdMetrics } from '../metrics/gd-metrics';

export interface OutgoingMetrics {
  readonly messages: Counter.Internal;
  readonly queueTime: Histogram.Internal<'host'>;
  readonly established: Counter.Internal;
  readonly errored: Counter.Internal;
  readonly closed: Counter.Internal;
  readonly requeued: Counter.Internal;
}

export function outgoingMetricsFor(metrics: GdMetrics, host: string): OutgoingMetrics {
  return {
    messages: metrics.outgoingMessages.labels(host),
    queueTime: metrics.outgoingQueueTime.labels(host),
    established: metrics.outgoingEstablished.labels(host),
    errored: metrics.outgoingErrored.labels(host),
    closed: metrics.outgoingClosed.labels(host),
    requeued: metrics.outgoingRequeued.labels(host),
  };
}

export interface IncomingPeerMetrics {
  readonly messages: Counter.Internal;
  readonly transferTime: Histogram.Internal<'host'>;
}

export function incomingMetricsFor(metrics: GdMetrics, host: string): IncomingPeerMetrics {
  return {
    messages: metrics.incomingMessages.labels(host),
    transferTime: metrics.incomingTransferTime.labels(host),
  };
}
