// Metrics of the component edge (ARCHITECTURE §10), next to the meridian_gd_* ones.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

/** Why a handshake failed (the `reason` label). */
export type HandshakeFailure =
  | 'not-authorized'
  /** No place among the handshakes checked for its address or domain; refused unchecked. */
  | 'too-many-attempts'
  | 'host-unknown'
  | 'conflict'
  | 'timeout'
  | 'bad-stream'
  | 'unavailable'
  | 'shutdown';

@Injectable()
export class ComponentMetrics {
  /** Authenticated component streams on this node (instances, not domains). */
  readonly sessions: Gauge<string>;
  readonly handshakes: Counter<'result' | 'reason'>;
  readonly stanzasIn: Counter<string>;
  readonly stanzasOut: Counter<string>;
  /** Stream errors this node sent to components, by condition. */
  readonly streamErrors: Counter<'condition'>;

  constructor(registry: Registry) {
    this.sessions = new Gauge({
      name: 'meridian_component_sessions',
      help: 'Authenticated XEP-0114 component streams on this node',
      registers: [registry],
    });
    this.handshakes = new Counter({
      name: 'meridian_component_handshakes_total',
      help: 'Component handshakes: result ok, or failed with a reason',
      labelNames: ['result', 'reason'],
      registers: [registry],
    });
    this.stanzasIn = new Counter({
      name: 'meridian_component_stanzas_in_total',
      help: 'Stanzas received from components and handed to routing',
      registers: [registry],
    });
    this.stanzasOut = new Counter({
      name: 'meridian_component_stanzas_out_total',
      help: 'Stanzas written to components',
      registers: [registry],
    });
    this.streamErrors = new Counter({
      name: 'meridian_component_stream_errors_total',
      help: 'Stream errors sent to components, by condition',
      labelNames: ['condition'],
      registers: [registry],
    });
  }

  handshakeOk(): void {
    this.handshakes.inc({ result: 'ok', reason: 'none' });
  }

  handshakeFailed(reason: HandshakeFailure): void {
    this.handshakes.inc({ result: 'failed', reason });
  }
}
